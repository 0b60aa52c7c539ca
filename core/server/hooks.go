package server

import (
	"net/textproto"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// hook receives an inbound push: the connection's connector parses and
// authenticates the request, the events are synced to the log, and only then
// is the connector's response sent. If the log write fails the caller gets a
// 503 and retries; nothing was acknowledged.
func (s *Server) hook(c *fiber.Ctx) error {
	// fiber's strings alias fasthttp's request buffer, which is reused after
	// the handler returns; the name outlives it (metrics labels, logs).
	name := strings.Clone(c.Params("connection"))
	conn, ok := s.o.Connections.Get(name)
	if !ok {
		// Don't list the configured names: the caller may be anyone.
		s.o.Metrics.rejected("", "unknown_connection")
		return apiError(c, fiber.StatusNotFound, "unknown_connection",
			"no connection is configured at this URL: check the connection name in the sender's endpoint URL", nil)
	}
	if err := s.guard(c, conn); err != nil {
		return s.refuse(c, name, err)
	}
	recv, ok := conn.Connector.(pluginsdk.Receiver)
	if !ok || !conn.Spec.HasRole(pluginsdk.RoleReceive) {
		s.o.Metrics.rejected(name, "not_inbound")
		return apiError(c, fiber.StatusNotFound, "not_inbound", "connection "+name+" does not receive pushed events", nil)
	}
	s.o.Metrics.received(name)
	req := s.toRequest(c)
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
		return apiError(c, status, code, perr.Message, nil)
	}
	if res == nil {
		res = &pluginsdk.ReceiveResult{}
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
			return apiError(c, fiber.StatusServiceUnavailable, "store_unavailable", "the events could not be stored; nothing was accepted, retry later", nil)
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
	base := s.o.PublicURL
	if base == "" {
		base = c.BaseURL()
	}
	// The body buffer belongs to fasthttp and is reused after the handler
	// returns; connectors may keep slices of it, so they get a copy.
	body := append([]byte(nil), c.Body()...)
	return &pluginsdk.HTTPRequest{
		Method:     c.Method(),
		URL:        strings.TrimSuffix(base, "/") + string(c.Request().RequestURI()),
		Path:       rest,
		Query:      query,
		Header:     header,
		Body:       body,
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
