package server

import (
	"net/textproto"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// hook receives an inbound push. The cheap checks come first, so that a
// request costs what it is allowed to be, never what it expands to: the
// connection (404), its guard, header auth (401), and only then is the
// body decompressed under the size cap (415, 413) and handed to the
// connection's connector, which parses and authenticates it fully. The
// events are synced to the log, and only then is the connector's response
// sent. If the log write fails the caller gets a 503 and retries; nothing
// was acknowledged.
func (s *Server) hook(c *fiber.Ctx) error {
	// fiber's strings alias fasthttp's request buffer, which is reused after
	// the handler returns; the name outlives it (metrics labels, logs).
	name := strings.Clone(c.Params("connection"))
	// Held until the events are logged: a hot reload that removes or
	// replaces the connection waits for this push (connector/apply.go).
	conn, release, ok := s.o.Connections.Acquire(name)
	if !ok {
		// Don't list the configured names: the caller may be anyone.
		s.o.Metrics.rejected("", "unknown_connection")
		return apiError(c, fiber.StatusNotFound, "unknown_connection",
			"no connection is configured at this URL: check the connection name in the sender's endpoint URL", nil)
	}
	defer release()
	recv, ok := conn.Connector.(pluginsdk.Receiver)
	if !ok || !conn.Spec.HasRole(pluginsdk.RoleReceive) {
		s.o.Metrics.rejected(name, "not_inbound")
		return apiError(c, fiber.StatusNotFound, "not_inbound", "connection "+name+" does not receive pushed events", nil)
	}
	if !conn.ReceivesPushes() {
		s.o.Metrics.rejected(name, "no_auth")
		return pushError(c, conn.Spec, fiber.StatusNotFound, "no_auth", "connection "+name+
			" does not receive pushed events because it has no auth configured: add an auth block to its spec (for example auth: {type: api_key, secret: ${KEY}}), or auth: {type: none} to accept anyone's posts")
	}
	// The connection's guard (IP allow-list, client certificate, rate
	// limit): after the lookup, before any auth or body work.
	if err := s.guard(c, conn); err != nil {
		return s.refuse(c, conn, err)
	}
	s.o.Metrics.received(name)
	req := s.toRequest(c)
	if err := checkCredential(req, conn.Auth, conn.Spec.Push.Credentials); err != nil {
		return s.refuseHook(c, conn, err)
	}
	body, err := decodeBody(c.Request().Body(), req.Header, conn.Spec.Push.Encodings, s.o.MaxBodyBytes)
	if err != nil {
		return s.refuseHook(c, conn, err)
	}
	if len(req.Header["Content-Encoding"]) > 0 {
		// The connector sees the decoded body, so the headers describing
		// the encoded one would only mislead it.
		delete(req.Header, "Content-Encoding")
		delete(req.Header, "Content-Length")
	}
	req.Body = body
	res, err := recv.Receive(c.UserContext(), req)
	if err != nil {
		perr := pluginsdk.AsError(err)
		status := perr.Status
		if status == 0 {
			status = fiber.StatusInternalServerError
			if perr.Retryable {
				status = fiber.StatusServiceUnavailable
			}
		}
		code := perr.Code
		if code == "" {
			code = "rejected"
		}
		s.o.Metrics.rejected(name, code)
		if status >= 500 {
			s.log.Error("receive failed", "connection", name, "err", err)
		}
		return pushError(c, conn.Spec, status, code, perr.Message)
	}
	if res == nil {
		res = &pluginsdk.ReceiveResult{}
	}
	if err := checkEvents(res.Events, conn.MaxEvents()); err != nil {
		return s.refuseHook(c, conn, err)
	}
	if len(res.Events) > 0 {
		reqs := make([]store.AppendRequest, len(res.Events))
		for i, ev := range res.Events {
			reqs[i] = store.AppendRequest{
				Connection: name, Type: ev.Type, DedupKey: ev.DedupKey,
				DedupWindow: conn.DedupWindow(), OccurredAt: ev.Time, Payload: ev.Payload,
			}
		}
		results, err := s.o.Store.Log().Append(c.UserContext(), reqs)
		if err != nil {
			s.o.Metrics.rejected(name, "store_unavailable")
			s.log.Error("append events", "connection", name, "count", len(reqs), "err", err)
			c.Set(fiber.HeaderRetryAfter, "5")
			return pushError(c, conn.Spec, fiber.StatusServiceUnavailable, "store_unavailable", "the events could not be stored; nothing was accepted, retry later")
		}
		dups := 0
		for _, r := range results {
			if r.Duplicate {
				dups++
			}
		}
		s.o.Metrics.accepted(name, len(results)-dups, dups)
		if s.o.OnAppended != nil {
			s.o.OnAppended(reqs, results)
		}
	}
	if len(res.Rejected) > 0 {
		s.o.Metrics.rejectedN(name, "invalid_item", len(res.Rejected))
	}
	return writeResponse(c, &res.Response)
}

func (s *Server) toRequest(c *fiber.Ctx) *pluginsdk.HTTPRequest {
	header := map[string][]string{}
	c.Request().Header.VisitAll(func(k, v []byte) {
		key := textproto.CanonicalMIMEHeaderKey(string(k))
		header[key] = append(header[key], string(v))
	})
	query := map[string][]string{}
	c.Request().URI().QueryArgs().VisitAll(func(k, v []byte) {
		query[string(k)] = append(query[string(k)], string(v))
	})
	rest := c.Params("*")
	if rest != "" && !strings.HasPrefix(rest, "/") {
		rest = "/" + rest
	}
	// The body is added by hook, decoded, once the cheap checks passed.
	return &pluginsdk.HTTPRequest{
		Method:     c.Method(),
		URL:        s.requestBase(c) + string(c.Request().RequestURI()),
		Path:       rest,
		Query:      query,
		Header:     header,
		RemoteAddr: c.Context().RemoteAddr().String(),
		Timeout:    30 * time.Second,
	}
}

func writeResponse(c *fiber.Ctx, r *pluginsdk.HTTPResponse) error {
	status := r.Status
	if status == 0 {
		status = fiber.StatusOK
	}
	for k, vs := range r.Header {
		if isCORSHeader(k) {
			continue // cors.go alone grants cross-origin access
		}
		for i, v := range vs {
			if i == 0 {
				c.Set(k, v)
			} else {
				c.Append(k, v)
			}
		}
	}
	if len(r.Body) == 0 && status != fiber.StatusNoContent {
		if len(r.Header["Content-Type"]) == 0 {
			return c.Status(status).JSON(fiber.Map{"success": true})
		}
	}
	return c.Status(status).Send(r.Body)
}
