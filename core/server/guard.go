package server

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
)

// refusal is a request the guard turned away: nothing of it was read
// beyond its headers, and nothing is stored.
type refusal struct {
	status     int
	code, msg  string
	retryAfter int // seconds; 0: no Retry-After
}

func (r *refusal) Error() string { return r.code + ": " + r.msg }

// guardState is the guard's memory between requests: one token bucket per
// connection that sets inbound.rate_limit.
type guardState struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	// now is time.Now; tests set a clock they move by hand.
	now func() time.Time
}

func (g *guardState) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

// guard applies the connection's spec.inbound before any body work: the
// caller's address, then its client certificate, then the rate, so a
// refused sender costs neither a certificate check nor a token. It returns
// a *refusal, which refuse renders, or nil to go on.
func (s *Server) guard(c *fiber.Ctx, conn *connector.Conn) error {
	in := conn.Config.Inbound
	if in == nil {
		return nil
	}
	name := conn.Name()
	if len(in.AllowIPs) > 0 {
		ip, err := s.clientIP(c)
		if err != nil {
			return &refusal{status: fiber.StatusForbidden, code: "ip_not_allowed", msg: err.Error()}
		}
		if !inPrefixes(ip, in.AllowIPs) {
			return &refusal{status: fiber.StatusForbidden, code: "ip_not_allowed",
				msg: fmt.Sprintf("address %s may not send to connection %s (inbound.allow_ips)", ip, name)}
		}
	}
	if in.ClientCAs != nil {
		if r := s.checkClientCert(c, name, in); r != nil {
			return r
		}
	}
	if rl := in.RateLimit; rl != nil {
		if wait, ok := s.guards.take(name, rl); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			return &refusal{status: fiber.StatusTooManyRequests, code: "rate_limited", retryAfter: max(secs, 1),
				msg: fmt.Sprintf("connection %s accepts %g requests per second (burst %d); retry after %d s", name, rl.PerSecond, rl.Burst, max(secs, 1))}
		}
	}
	return nil
}

// refuse answers a guard refusal and counts it.
func (s *Server) refuse(c *fiber.Ctx, conn *connector.Conn, err error) error {
	name := conn.Name()
	var r *refusal
	if !errors.As(err, &r) {
		return err
	}
	s.o.Metrics.rejected(name, r.code)
	// A flood of refusals must not become a flood of log lines: the metric
	// counts them; the log keeps what helps set a sender up.
	level := slog.LevelInfo
	if r.code == "rate_limited" {
		level = slog.LevelDebug
	}
	s.log.Log(c.UserContext(), level, "inbound request refused", "connection", name, "reason", r.code, "peer", c.Context().RemoteIP().String(), "detail", r.msg)
	if r.retryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(r.retryAfter))
	}
	return pushError(c, conn.Spec, r.status, r.code, r.msg)
}

// clientIP is the address a request comes from: the peer's, unless the
// peer is a trusted proxy; then the right-most X-Forwarded-For address that
// is not itself a trusted proxy. Entries to its left were written by the
// client and prove nothing.
func (s *Server) clientIP(c *fiber.Ctx) (netip.Addr, error) {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return netip.Addr{}, fmt.Errorf("the peer address %s is not an IP address", c.Context().RemoteAddr())
	}
	peer = peer.Unmap()
	if !inPrefixes(peer, s.o.TrustedProxies) {
		return peer, nil
	}
	var hops [][]byte
	for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		hops = append(hops, bytes.Split(v, []byte(","))...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		h := bytes.TrimSpace(hops[i])
		a, err := netip.ParseAddr(string(h))
		if err != nil {
			return netip.Addr{}, fmt.Errorf("X-Forwarded-For entry %q from trusted proxy %s is not an IP address", clip(string(h), 64), peer)
		}
		client = a.Unmap()
		if !inPrefixes(client, s.o.TrustedProxies) {
			break
		}
	}
	return client, nil
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// checkClientCert verifies the TLS peer's certificate chain against the
// connection's client_ca. The listener requests a certificate but does not
// verify it, since other connections on the same port do not use one; so
// the check, with the purpose client authentication, is made here.
func (s *Server) checkClientCert(c *fiber.Ctx, name string, in *config.Inbound) *refusal {
	st := c.Context().TLSConnectionState()
	if st == nil {
		return &refusal{status: fiber.StatusForbidden, code: "client_cert_required",
			msg: fmt.Sprintf("connection %s accepts only HTTPS requests with a client certificate", name)}
	}
	if len(st.PeerCertificates) == 0 {
		return &refusal{status: fiber.StatusUnauthorized, code: "client_cert_required",
			msg: fmt.Sprintf("no client certificate was sent: connection %s requires one issued by its inbound.client_ca", name)}
	}
	leaf := st.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, ic := range st.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots: in.ClientCAs, Intermediates: inter, CurrentTime: s.guards.clock(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return &refusal{status: fiber.StatusForbidden, code: "client_cert_invalid",
			msg: fmt.Sprintf("client certificate %q is not accepted by connection %s: %v", clip(leaf.Subject.String(), 128), name, err)}
	}
	return nil
}

// bucket is a token bucket for one connection.
type bucket struct {
	limit  *config.RateLimit // what it was made for; a reload makes a new one
	tokens float64
	last   time.Time
}

// take takes one token of the connection's bucket, or says how long until
// one is there.
func (g *guardState) take(name string, rl *config.RateLimit) (time.Duration, bool) {
	now := g.clock()
	g.mu.Lock()
	defer g.mu.Unlock()
	b := g.buckets[name]
	if b == nil || b.limit != rl {
		if g.buckets == nil {
			g.buckets = map[string]*bucket{}
		}
		b = &bucket{limit: rl, tokens: float64(rl.Burst), last: now}
		g.buckets[name] = b
	}
	if el := now.Sub(b.last); el > 0 {
		b.tokens = math.Min(float64(rl.Burst), b.tokens+el.Seconds()*rl.PerSecond)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rl.PerSecond * float64(time.Second)), false
}

// clip shortens what a caller sent before it goes into a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
