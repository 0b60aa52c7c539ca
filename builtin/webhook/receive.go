package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// EventType labels every event this connector produces.
const EventType = "webhook"

// Receive accepts a POST whose body is one JSON object (one event) or an array
// of objects (one event each). The whole request is accepted or refused: a
// sender retrying after a 400 must not create half a batch twice.
func (c *Connector) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if err := ctx.Err(); err != nil {
		// The caller is gone or the host is shutting down: accept nothing,
		// so the sender retries rather than trusting an answer it never got.
		return nil, pluginsdk.Retryable("receive: %v", context.Cause(ctx))
	}
	if req.Method != http.MethodPost {
		return nil, &pluginsdk.Error{Code: "method_not_allowed", Status: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("method %s is not allowed; send POST", req.Method)}
	}
	if c.oauth != nil {
		// The host does not route pushes to an oauth2 connection; this is
		// the backstop, so such a connection is never open inbound.
		return nil, pluginsdk.Unauthorized("this connection authenticates outbound calls with oauth2 and receives no pushes")
	}
	if c.apiKey != nil && !c.keyMatches(req.HeaderValue("X-Api-Key")) {
		return nil, pluginsdk.Unauthorized("missing or wrong X-API-Key header")
	}
	if ct := req.HeaderValue("Content-Type"); ct != "" && !isJSONMediaType(ct) {
		return nil, &pluginsdk.Error{Code: "unsupported_media_type", Status: http.StatusUnsupportedMediaType,
			Message: fmt.Sprintf("content type %q is not JSON; send application/json", ct)}
	}
	payloads, err := parseBody(req.Body, c.cfg.MaxEvents)
	if err != nil {
		return nil, err
	}
	events := make([]pluginsdk.Event, len(payloads))
	headerKey := ""
	if c.cfg.DedupKeyHeader != "" {
		headerKey = req.HeaderValue(c.cfg.DedupKeyHeader) // canonical since Configure
	}
	isArray := firstByte(req.Body) == '['
	for i, p := range payloads {
		ev := pluginsdk.Event{Payload: p, Type: EventType}
		switch {
		case headerKey != "" && isArray:
			// One key names the whole request; each element needs its own
			// so that a batch does not collapse into its first event.
			ev.DedupKey = headerKey + "#" + strconv.Itoa(i)
		case headerKey != "":
			ev.DedupKey = headerKey
		case c.cfg.DedupPath != "":
			key, err := dedupValue(p, c.cfg.DedupPath)
			if err != nil {
				return nil, pluginsdk.BadRequest("%s", elementMessage(isArray, i, err.Error()))
			}
			ev.DedupKey = key
		}
		events[i] = ev
	}
	// Appended, not marshalled: this runs once per inbound request.
	body := strconv.AppendInt([]byte(`{"accepted":`), int64(len(events)), 10)
	body = append(body, '}')
	return &pluginsdk.ReceiveResult{
		Events: events,
		Response: pluginsdk.HTTPResponse{
			Status: http.StatusAccepted,
			Header: map[string][]string{"Content-Type": {"application/json"}},
			Body:   body,
		},
	}, nil
}

// keyMatches compares SHA-256 digests in constant time, so neither the
// content nor the length of the configured key leaks through timing.
func (c *Connector) keyMatches(got string) bool {
	if got == "" {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	return subtle.ConstantTimeCompare(sum[:], c.apiKey) == 1
}

func isJSONMediaType(ct string) bool {
	if ct == "application/json" { // the common case, without parsing
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || (strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

// trimJSONSpace trims the four bytes JSON calls whitespace, and no others
// (bytes.TrimSpace would also drop \v, \f and U+0085, which JSON rejects).
func trimJSONSpace(b []byte) []byte { return bytes.Trim(b, jsonSpace) }

const jsonSpace = " \t\r\n"

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, jsonSpace)
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func elementMessage(isArray bool, i int, msg string) string {
	if isArray {
		return fmt.Sprintf("element %d: %s", i, msg)
	}
	return msg
}

// ParseBody splits a webhook body into event payloads: an object is one
// payload, an array of objects one per element. Each payload is the exact
// bytes of its object as sent (never re-encoded), in a copy that does not
// alias body: a server may reuse its request buffer once the handler returns.
// Errors are *pluginsdk.Error with Status 400 and name the byte offset or the
// array index at fault.
func ParseBody(body []byte) ([]json.RawMessage, error) { return parseBody(body, 0) }

// parseBody is ParseBody refusing (413) an array of more than maxEvents
// elements (0: no limit). It stops splitting at the first element past
// the limit, so an array of a million {} costs no more than the limit.
func parseBody(body []byte, maxEvents int) ([]json.RawMessage, error) {
	trimmed := trimJSONSpace(body)
	if len(trimmed) == 0 {
		return nil, pluginsdk.BadRequest("empty body; send a JSON object or an array of objects")
	}
	// fields.Valid agrees with json.Valid (fuzzed) at a third of the cost,
	// which matters on the ingest path.
	if !fields.Valid(trimmed) {
		return nil, syntaxError(body)
	}
	switch trimmed[0] {
	case '{':
		return []json.RawMessage{bytes.Clone(trimmed)}, nil
	case '[':
		return splitArray(bytes.Clone(trimmed), maxEvents)
	}
	return nil, pluginsdk.BadRequest("body is a JSON %s; send a JSON object or an array of objects", kind(trimmed[0]))
}

// splitArray slices the elements out of arr, a valid JSON array without
// surrounding whitespace. Validity (checked by fields.Valid) is what lets a
// scan that tracks only strings and nesting depth find element boundaries.
func splitArray(arr []byte, maxEvents int) ([]json.RawMessage, error) {
	var out []json.RawMessage
	depth, inString, escaped := 0, false, false
	start := -1
	for i := 1; i < len(arr); i++ {
		c := arr[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			continue
		}
		if start < 0 && c != ']' {
			start = i
			if c != '{' {
				return nil, pluginsdk.BadRequest("element %d is a JSON %s; every element must be an object", len(out), kind(c))
			}
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
		case '}':
			depth--
		case ']':
			depth--
			if depth >= 0 {
				break
			}
			fallthrough // the array's own closing bracket
		case ',':
			if depth <= 0 && start >= 0 {
				if maxEvents > 0 && len(out) == maxEvents {
					return nil, tooManyEvents(maxEvents)
				}
				out = append(out, trimJSONSpace(arr[start:i]))
				start = -1
			}
		}
	}
	if len(out) == 0 {
		return nil, pluginsdk.BadRequest("empty array; send at least one object")
	}
	return out, nil
}

func tooManyEvents(maxEvents int) error {
	return &pluginsdk.Error{Code: "too_many_events", Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf(
		"the array holds more than %d objects, this connection's limit per request (config.max_events); nothing was stored: send smaller batches", maxEvents)}
}

// syntaxError reports why body is not valid JSON and where. json.Valid
// gives no position, so the invalid body is decoded once more for it.
func syntaxError(body []byte) error {
	var v any
	err := json.Unmarshal(body, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return pluginsdk.BadRequest("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	// json.Valid said no, so Unmarshal cannot succeed; keep a message anyway.
	return pluginsdk.BadRequest("invalid JSON: %v", err)
}

func kind(b byte) string {
	switch b {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// dedupValue returns the value of top-level key in obj as a dedup key: a
// string as is, a number as written; absent or null gives no key.
func dedupValue(obj json.RawMessage, key string) (string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(obj, &fields); err != nil {
		return "", fmt.Errorf("decode object: %w", err)
	}
	v, ok := fields[key]
	if !ok || string(v) == "null" {
		return "", nil
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("dedup key %q: %w", key, err)
		}
		return s, nil
	case '{', '[', 't', 'f':
		return "", fmt.Errorf("dedup key %q is a JSON %s; want a string or number", key, kind(v[0]))
	}
	return string(v), nil
}
