package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// The paths read from a request body and from every message, in one pass
// each (host-assisted under Wasm). batch, writeKey and sentAt matter on a
// batch envelope; the rest on a message.
var msgPaths = fields.MustCompile(
	"$.batch", "$.writeKey", "$.sentAt", "$.type", "$.messageId",
	"$.timestamp", "$.userId", "$.anonymousId", "$.event",
)

const (
	pBatch = iota
	pWriteKey
	pSentAt
	pType
	pMessageID
	pTimestamp
	pUserID
	pAnonymousID
	pEvent
	nPaths
)

// endpoint is what the part of the URL after /hooks/{connection} asks for.
type endpoint struct {
	// tracking is true for the Tracking API (/v1/...), false for the
	// Webhooks destination (the hook URL itself).
	tracking bool
	// batch: /v1/batch (and its older name /v1/import).
	batch bool
	// typ is the call type of /v1/<type>, "" otherwise.
	typ string
	// settingsKey is the write key of analytics.js's settings request
	// (GET /v1/projects/<writeKey>/settings), "" otherwise.
	settingsKey string
}

var callTypes = []string{"identify", "track", "page", "screen", "group", "alias"}

// callType names the call type of a /v1/<name> endpoint: the full name, or
// the first letter that analytics.js (the browser SDK) posts to (/v1/t,
// /v1/i, ...); "" for anything else.
func callType(name string) string {
	for _, t := range callTypes {
		if name == t || len(name) == 1 && name[0] == t[0] {
			return t
		}
	}
	return ""
}

func route(req *pluginsdk.HTTPRequest) (endpoint, error) {
	p := strings.TrimSuffix(req.Path, "/")
	var ep endpoint
	switch {
	case p == "":
		// Webhooks (Actions) may be set to PUT or PATCH.
		if req.Method != "POST" && req.Method != "PUT" && req.Method != "PATCH" {
			return ep, methodNotAllowed(req.Method, "POST")
		}
		return ep, nil
	case p == "/v1/batch" || p == "/v1/import" || p == "/v1/b":
		ep = endpoint{tracking: true, batch: true}
	case strings.HasPrefix(p, "/v1/") && callType(p[len("/v1/"):]) != "":
		ep = endpoint{tracking: true, typ: callType(p[len("/v1/"):])}
	default:
		if key, ok := settingsKey(p); ok {
			if req.Method != "GET" {
				return ep, methodNotAllowed(req.Method, "GET")
			}
			return endpoint{settingsKey: key}, nil
		}
		return ep, &pluginsdk.Error{Status: 404, Code: "not_found", Message: fmt.Sprintf(
			"no Segment endpoint at %q: post the Webhooks destination to the hook URL itself, or point an SDK at it (it adds /v1/batch, /v1/identify, /v1/track, /v1/page, /v1/screen, /v1/group or /v1/alias; analytics.js with cdnURL set to it also GETs /v1/projects/<writeKey>/settings)", req.Path)}
	}
	if req.Method != "POST" {
		return ep, methodNotAllowed(req.Method, "POST")
	}
	return ep, nil
}

func methodNotAllowed(got, want string) error {
	return &pluginsdk.Error{Status: 405, Code: "method_not_allowed", Message: fmt.Sprintf("method %s is not allowed here; use %s", got, want)}
}

// Receive turns a Webhooks-destination post or a Tracking API call into one
// event per message. A batch whose messages are partly bad stores the good
// ones and answers 400 listing the others by index (README: error policy).
func (s *Segment) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if !s.configured {
		return nil, pluginsdk.Errorf("segment: not configured")
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("segment: %v", err)
	}
	if isTagPath(req.Path) {
		return s.serveTag(req)
	}
	ep, err := route(req)
	if err != nil {
		return nil, err
	}
	if ep.settingsKey != "" {
		return s.settings(req, ep.settingsKey)
	}
	if n := len(req.Body); n > maxBatchBytes {
		return nil, &pluginsdk.Error{Status: 413, Code: "payload_too_large", Message: fmt.Sprintf(
			"request body is %d bytes, over Segment's limit of 500 KB (%d bytes) per request: send smaller batches", n, maxBatchBytes)}
	}
	pr, err := s.checkHeaders(req)
	if err != nil {
		return nil, err
	}
	body := trimSpace(req.Body)
	var v [nPaths][]byte
	var docs [][]byte // the messages of a batch; nil for a single message
	var perr error
	switch {
	case len(body) == 0:
		perr = fmt.Errorf("the body is empty")
	case body[0] == '[' && !ep.tracking:
		// A Webhooks (Actions) destination with batching posts an array.
		docs, perr = fields.Elements(body)
	case body[0] == '{':
		if perr = msgPaths.Extract(body, v[:]); perr == nil && v[pBatch] != nil && (ep.batch || !ep.tracking) {
			if docs, perr = fields.Elements(v[pBatch]); perr != nil {
				perr = fmt.Errorf("batch must be an array of messages")
			}
		} else if perr == nil && ep.batch {
			perr = fmt.Errorf(`no "batch" array: /v1/batch takes {"batch": [messages...]}`)
		}
	default:
		perr = fmt.Errorf("the body must be a JSON object (or, from the Webhooks destination, an array of them)")
	}
	if pr != proven {
		// The body's writeKey is the last way to prove the sender; without
		// a readable body the sender is unknown, which outranks bad input.
		if perr != nil {
			if err := s.missingProof(); err != nil {
				return nil, err
			}
		} else if err := s.bodyKey(v[pWriteKey]); err != nil {
			return nil, err
		}
	}
	if perr != nil {
		return nil, pluginsdk.BadRequest("malformed request: %v", perr)
	}
	var res *pluginsdk.ReceiveResult
	if docs == nil {
		res, err = s.single(ctx, body, &v, ep.typ)
	} else {
		res, err = s.batch(ctx, docs, v[pSentAt])
	}
	// Browsers (analytics.js) post from other origins: the host's spec.cors
	// answers their preflight and grants the answer, for every connector
	// alike.
	return res, err
}

// bodyKey checks the writeKey of the body (envelope or message) when the
// headers proved nothing.
func (s *Segment) bodyKey(raw []byte) error {
	if !s.hasKey {
		return s.missingProof()
	}
	if raw == nil {
		return s.missingProof()
	}
	if key, ok := fields.String(raw); ok && s.keyMatches(key) {
		return nil
	}
	return pluginsdk.Unauthorized("the writeKey in the body is not this connection's")
}

func (s *Segment) single(ctx context.Context, msg []byte, v *[nPaths][]byte, typ string) (*pluginsdk.ReceiveResult, error) {
	if len(msg) > maxMessageBytes {
		return nil, pluginsdk.BadRequest("the message is %d bytes, over Segment's limit of 32 KB (%d bytes) per message", len(msg), maxMessageBytes)
	}
	ev, reason := toEvent(msg, v, typ, nil)
	if reason != "" {
		return nil, pluginsdk.BadRequest("%s", reason)
	}
	res := pluginsdk.NewReceiveResult(ctx, 1)
	res.Events = append(res.Events, ev)
	res.Response = okResponse()
	return res, nil
}

func (s *Segment) batch(ctx context.Context, docs [][]byte, sentAt []byte) (*pluginsdk.ReceiveResult, error) {
	if len(docs) == 0 {
		return nil, pluginsdk.BadRequest("the batch holds no messages")
	}
	if len(docs) > s.maxEvents {
		return nil, &pluginsdk.Error{Status: 413, Code: "too_many_events", Message: fmt.Sprintf(
			"the request holds %d messages, more than this connection's limit of %d (config.max_events); nothing was stored: send smaller batches", len(docs), s.maxEvents)}
	}
	res := pluginsdk.NewReceiveResult(ctx, len(docs))
	reject := func(i int, format string, args ...any) {
		res.Rejected = append(res.Rejected, pluginsdk.ItemError{Index: i, Message: fmt.Sprintf(format, args...)})
	}
	var v [nPaths][]byte
	for i, doc := range docs {
		switch {
		case len(doc) == 0 || doc[0] != '{':
			reject(i, "not a JSON object")
			continue
		case len(doc) > maxMessageBytes:
			reject(i, "the message is %d bytes, over Segment's limit of 32 KB (%d bytes) per message", len(doc), maxMessageBytes)
			continue
		}
		if err := msgPaths.Extract(doc, v[:]); err != nil {
			reject(i, "malformed message: %v", err)
			continue
		}
		ev, reason := toEvent(doc, &v, "", sentAt)
		if reason != "" {
			reject(i, "%s", reason)
			continue
		}
		res.Events = append(res.Events, ev)
	}
	if len(res.Rejected) == 0 {
		res.Response = okResponse()
		return res, nil
	}
	res.Response = rejectedResponse(len(res.Events), len(docs), res.Rejected)
	return res, nil
}

// jsonHeader is shared by every response and never modified.
var jsonHeader = map[string][]string{"Content-Type": {"application/json"}}

var okBody = []byte(`{"success":true}`)

func okResponse() pluginsdk.HTTPResponse {
	return pluginsdk.HTTPResponse{Status: 200, Header: jsonHeader, Body: okBody}
}

// rejectedResponse answers a batch with bad messages: 400 (as Segment
// answers an oversized message), the count stored, and each rejected
// message by index, in the error shape of the rest of Junction's API.
func rejectedResponse(accepted, total int, rejected []pluginsdk.ItemError) pluginsdk.HTTPResponse {
	b := make([]byte, 0, 128+64*len(rejected))
	b = append(b, `{"success":false,"accepted":`...)
	b = strconv.AppendInt(b, int64(accepted), 10)
	b = append(b, `,"rejected":[`...)
	for i, r := range rejected {
		if i > 0 {
			b = append(b, ',')
		}
		o := fields.NewObject(b)
		o.Int("index", int64(r.Index))
		o.String("message", r.Message)
		b = o.Bytes()
	}
	b = append(b, `],"error":`...)
	o := fields.NewObject(b)
	o.String("code", "invalid_messages")
	o.String("message", fmt.Sprintf("%d of %d messages were rejected (listed by index in \"rejected\"); the other %d were stored", len(rejected), total, accepted))
	b = append(o.Bytes(), '}')
	return pluginsdk.HTTPResponse{Status: 400, Header: jsonHeader, Body: b}
}

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && isSpace(b[i]) {
		i++
	}
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
