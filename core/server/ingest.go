package server

import (
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

// checkEvents is the host's last look at what a connector produced, before
// anything is stored: the whole request is refused when it holds more
// events than the connection allows (a backstop for a connector that does
// not count), or when a payload is not UTF-8. JSON validity alone lets
// invalid UTF-8 through (encoding/json accepts it, and so does the
// store's check, which agrees with it), and such a payload would later be
// served by the API as invalid JSON. This is the one UTF-8 check on the
// ingest path: utf8.Valid runs at memory speed over ASCII.
func checkEvents(evs []pluginsdk.Event, maxEvents int) error {
	if len(evs) > maxEvents {
		return &hookError{Status: http.StatusRequestEntityTooLarge, Code: "too_many_events", Message: fmt.Sprintf(
			"the request holds %d events, more than this connection's limit of %d per request (config.max_events); nothing was stored: send smaller batches", len(evs), maxEvents)}
	}
	for i := range evs {
		if !utf8.Valid(evs[i].Payload) {
			return &hookError{Status: http.StatusBadRequest, Code: "invalid_utf8", Message: fmt.Sprintf(
				"event %d is not valid UTF-8 (JSON text must be); nothing was stored", i)}
		}
	}
	return nil
}

// refuseHook answers a refused push in the API's error shape and counts
// it by reason.
func (s *Server) refuseHook(c *fiber.Ctx, conn *connector.Conn, err error) error {
	var he *hookError
	if !errors.As(err, &he) {
		he = &hookError{Status: http.StatusInternalServerError, Code: "internal", Message: err.Error()}
	}
	s.o.Metrics.rejected(conn.Name(), he.Code)
	return pushError(c, conn.Spec, he.Status, he.Code, he.Message)
}
