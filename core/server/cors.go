package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/pluginsdk"
)

// The one CORS implementation of the hooks (spec.cors), in the host so
// that every connector gets the same rules and no connector can widen
// them (writeResponse drops Access-Control-* headers a connector sets).
//
// It runs as the first middleware, before the body limit, so an answer to
// an allowed origin carries the grant whatever refuses the request later
// (413, 415, 401, 429, 400, 503): without it the page cannot read why its
// request failed, and analytics-next treats an unreadable answer as a
// network error. A request with an Origin the connection does not list is
// refused with 403 before any body work, so a page on another site can
// neither store events nor learn anything from the answer. Requests
// without an Origin (server SDKs, webhooks) pass untouched.

// corsMethods are the methods browser clients use on a hook: POST to send
// events, GET for analytics-next's settings.
const corsMethods = "GET, POST"

// corsHeaders are the request headers browser clients send: analytics-next
// posts text/plain (or a Content-Type set in deliveryStrategy.config.
// headers), adds Authorization: Basic base64(writeKey:) when the settings
// carry apiKey, and X-Retry-Count on every retry (fetch-dispatcher.ts and
// batched-dispatcher.ts). A retry whose header the preflight does not
// allow is never sent, and the events are lost.
var corsHeaders = []string{"Authorization", "Content-Type", "X-Retry-Count"}

// corsExposed are the response headers a page may read beyond the
// CORS-safelisted ones: analytics-next waits as long as Retry-After says
// after a 429 or 503 (shared-dispatcher.ts parseRetryAfter).
const corsExposed = "Retry-After"

// cors applies the connection's spec.cors to a request on /hooks/.
func (s *Server) cors(c *fiber.Ctx) error {
	name := hookConnection(c.Path())
	if name == "" {
		return c.Next()
	}
	conn, ok := s.o.Connections.Get(name)
	if !ok {
		return c.Next()
	}
	if _, ok := conn.Connector.(pluginsdk.Receiver); !ok || !conn.Spec.HasRole(pluginsdk.RoleReceive) || !conn.ReceivesPushes() {
		// The hook answers 404 for these; no grant, and no reason to
		// answer differently for a browser.
		return c.Next()
	}
	cfg := conn.Config.CORS
	// The answer depends on Origin: a cache in between must not serve one
	// page's grant (or refusal) to another.
	c.Vary(fiber.HeaderOrigin)
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Next()
	}
	if !cfg.Allows(origin) {
		s.o.Metrics.rejected(name, "origin_not_allowed")
		s.log.Debug("cross-origin request refused", "connection", name, "origin", clip(origin, 128))
		msg := fmt.Sprintf("connection %s does not accept requests from web pages of origin %s: add it to the connection's spec.cors.origins", name, clip(origin, 128))
		if cfg == nil {
			msg = fmt.Sprintf("connection %s does not accept requests from web pages (origin %s): it has no spec.cors; add cors: {origins: [%s]} to allow this site", name, clip(origin, 128), clip(origin, 128))
		}
		return pushError(c, conn.Spec, fiber.StatusForbidden, "origin_not_allowed", msg)
	}
	// The origin is echoed rather than "*", also when "*" is configured:
	// it works whatever the page's credentials mode is.
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	c.Set(fiber.HeaderAccessControlExposeHeaders, corsExposed)
	if c.Method() == fiber.MethodOptions && c.Get(fiber.HeaderAccessControlRequestMethod) != "" {
		c.Set(fiber.HeaderAccessControlAllowMethods, corsMethods)
		c.Set(fiber.HeaderAccessControlAllowHeaders, allowedHeaders(conn.Spec.Push))
		c.Set(fiber.HeaderAccessControlMaxAge, strconv.Itoa(int(cfg.MaxAge.Seconds())))
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Next()
}

// allowedHeaders is the preflight's Access-Control-Allow-Headers: what
// browser clients send, the credential headers the connector reads, and
// Content-Encoding when it takes a compressed body.
func allowedHeaders(p pluginsdk.Push) string {
	hs := append([]string(nil), corsHeaders...)
	for _, cr := range p.Credentials {
		if (cr.In == pluginsdk.CredentialHeader || cr.In == pluginsdk.CredentialSignature) && cr.Name != "" {
			hs = appendHeader(hs, cr.Name)
		}
	}
	if len(p.Encodings) > 0 {
		hs = appendHeader(hs, fiber.HeaderContentEncoding)
	}
	return strings.Join(hs, ", ")
}

func appendHeader(hs []string, h string) []string {
	for _, x := range hs {
		if strings.EqualFold(x, h) {
			return hs
		}
	}
	return append(hs, h)
}

// isCORSHeader reports whether a response header is one only cors may set.
func isCORSHeader(k string) bool {
	return len(k) > len("access-control-") && strings.EqualFold(k[:len("access-control-")], "access-control-")
}
