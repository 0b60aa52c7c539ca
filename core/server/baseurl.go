package server

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// requestBase is the hub's URL as the caller reached it, for connectors
// that answer with links to themselves (analytics.js's settings name the
// host to send to) or check signatures over the URL: PublicURL when set;
// otherwise the scheme of this connection (https under TLS) and the Host
// header. X-Forwarded-Proto and X-Forwarded-Host are believed only from a
// trusted proxy (Settings trusted_proxies): fiber's own BaseURL believes
// them from anyone.
func (s *Server) requestBase(c *fiber.Ctx) string {
	if s.o.PublicURL != "" {
		return strings.TrimSuffix(s.o.PublicURL, "/")
	}
	scheme := "http"
	if c.Context().IsTLS() {
		scheme = "https"
	}
	host := string(c.Request().Host())
	if peer, ok := netip.AddrFromSlice(c.Context().RemoteIP()); ok && inPrefixes(peer.Unmap(), s.o.TrustedProxies) {
		// The nearest proxy's value: the last one it appended.
		if p := lastForwarded(c.Get(fiber.HeaderXForwardedProto)); p == "http" || p == "https" {
			scheme = p
		}
		if h := lastForwarded(c.Get(fiber.HeaderXForwardedHost)); h != "" && validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		host = c.Context().LocalAddr().String()
	}
	return scheme + "://" + host
}

func lastForwarded(v string) string {
	if i := strings.LastIndexByte(v, ','); i >= 0 {
		v = v[i+1:]
	}
	return strings.ToLower(strings.TrimSpace(v))
}

// validHost accepts host[:port] as a Host header may carry it; anything
// else (a path, spaces, quotes) is not put into a URL the hub hands out.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-:[]_", c) >= 0) {
			return false
		}
	}
	return true
}
