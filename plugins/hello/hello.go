package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// Config is the connection's `config:` block.
type Config struct {
	// Greeting opens the message of the greet action ("Hello" → "Hello, Ada!").
	Greeting string `json:"greeting"`
	// EventType, when set, keeps only events whose $.type equals it; the rest
	// are acknowledged and skipped.
	EventType string `json:"event_type"`
	// Fields, when set, reshapes each event into an object of these names,
	// each read from a JSON path of the event; otherwise events pass through
	// untouched.
	Fields map[string]string `json:"fields"`
	// WebhookURL is where the notify action posts its input.
	WebhookURL string `json:"webhook_url"`
	// PoolSize is read by the host (Wasm instances serving calls at once).
	PoolSize int `json:"pool_size"`
}

// Hello is the connector.
type Hello struct {
	cfg  Config
	pc   *pluginsdk.Context
	out  []string      // output field names, in Paths order after the fixed ones
	read *fields.Paths // fixed paths, then one per output field
}

// Paths every event is read at, before the configured fields.
const (
	pType = iota
	pMessageID
	pTimestamp
	nFixed
)

// TokenHeader carries the api_key secret on inbound requests.
const TokenHeader = "X-Hello-Token"

func (h *Hello) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name:        "hello",
		Version:     "0.1.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Example connector: receives JSON events, optionally filtered and reshaped, and performs greet, echo, notify and count actions.",
		Direction:   pluginsdk.Bidirectional,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthNone, pluginsdk.AuthAPIKey},
		Config: []pluginsdk.Param{
			{Name: "greeting", Type: pluginsdk.TypeString, Required: true, Description: "Opening word of the greet action's message."},
			{Name: "event_type", Type: pluginsdk.TypeString, Description: "Keep only events whose $.type equals this."},
			{Name: "fields", Type: pluginsdk.TypeObject, Description: "Output field name to JSON path; reshapes each event."},
			{Name: "webhook_url", Type: pluginsdk.TypeString, Description: "Target of the notify action."},
		},
		Roles: []string{pluginsdk.RoleReceive, pluginsdk.RolePerform},
		Push:  pluginsdk.Push{Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialHeader, Name: TokenHeader}}},
		Actions: []pluginsdk.Action{
			{Name: "greet", Description: "Returns {message: \"<greeting>, <name>!\"}.", Input: []pluginsdk.Param{{Name: "name", Type: pluginsdk.TypeString, Required: true}}},
			{Name: "echo", Description: "Returns its input unchanged."},
			{Name: "notify", Description: "POSTs its input, a JSON value, to webhook_url through the host; 429 and 5xx answers are retryable."},
			{Name: "count", Description: "Increments a counter kept in the connection's KV store.", Input: []pluginsdk.Param{{Name: "key", Type: pluginsdk.TypeString, Required: true}}},
		},
	}
}

func (h *Hello) Configure(_ context.Context, pc *pluginsdk.Context) error {
	var cfg Config
	if err := pc.DecodeConfig(&cfg); err != nil {
		return err
	}
	if strings.TrimSpace(cfg.Greeting) == "" {
		return pluginsdk.Errorf("config: missing required key greeting")
	}
	paths := []string{"$.type", "$.messageId", "$.timestamp"}
	names := make([]string, 0, len(cfg.Fields))
	for name := range cfg.Fields {
		names = append(names, name)
	}
	sort.Strings(names) // a stable output order
	for _, name := range names {
		paths = append(paths, cfg.Fields[name])
	}
	read, err := fields.Compile(paths...)
	if err != nil {
		return pluginsdk.Errorf("config: fields: %v", err)
	}
	if pc.Auth.Type == pluginsdk.AuthAPIKey && pc.Auth.Secret == "" {
		return pluginsdk.Errorf("auth: api_key needs a secret")
	}
	h.cfg, h.pc, h.out, h.read = cfg, pc, names, read
	return nil
}

func (h *Hello) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if h.pc == nil {
		return nil, pluginsdk.Errorf("hello: not configured")
	}
	if h.pc.Auth.Type == pluginsdk.AuthAPIKey && subtle.ConstantTimeCompare([]byte(req.HeaderValue(TokenHeader)), []byte(h.pc.Auth.Secret)) != 1 {
		return nil, pluginsdk.Unauthorized("missing or wrong %s header", TokenHeader)
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("hello: %v", err)
	}
	one := [1][]byte{req.Body}
	docs := one[:]
	if b := firstByte(req.Body); b == '[' {
		var err error
		if docs, err = fields.Elements(req.Body); err != nil {
			return nil, pluginsdk.BadRequest("body: %v", err)
		}
	} else if b != '{' {
		return nil, pluginsdk.BadRequest("body must be a JSON object or an array of objects")
	}
	res := pluginsdk.NewReceiveResult(ctx, len(docs))
	// Allocation-light on purpose: in a Go Wasm guest every heap allocation
	// costs about a microsecond.
	var small [16][]byte
	vals := small[:]
	if n := h.read.Len(); n > len(small) {
		vals = make([][]byte, n)
	}
	skipped := 0
	for i, doc := range docs {
		if firstByte(doc) != '{' {
			res.Rejected = append(res.Rejected, pluginsdk.ItemError{Index: i, Message: "not a JSON object"})
			continue
		}
		if err := h.read.Extract(doc, vals); err != nil {
			if len(docs) == 1 {
				return nil, pluginsdk.BadRequest("body: %v", err)
			}
			res.Rejected = append(res.Rejected, pluginsdk.ItemError{Index: i, Message: err.Error()})
			continue
		}
		if h.cfg.EventType != "" && !fields.Equal(vals[pType], h.cfg.EventType) {
			skipped++
			continue
		}
		ev := pluginsdk.Event{Payload: doc}
		ev.Type, _ = fields.String(vals[pType])
		ev.DedupKey, _ = fields.String(vals[pMessageID])
		if ts, ok := fields.Time(vals[pTimestamp]); ok {
			ev.Time = ts
		}
		if len(h.out) > 0 {
			o := fields.NewObject(make([]byte, 0, 256))
			for k, name := range h.out {
				o.Raw(name, vals[nFixed+k])
			}
			ev.Payload = o.Bytes()
		}
		res.Events = append(res.Events, ev)
	}
	body := fields.NewObject(make([]byte, 0, 48))
	body.Int("accepted", int64(len(res.Events)))
	body.Int("skipped", int64(skipped))
	body.Int("rejected", int64(len(res.Rejected)))
	res.Response = pluginsdk.HTTPResponse{Status: 200, Header: jsonHeader, Body: body.Bytes()}
	return res, nil
}

// jsonHeader is shared by every response and never modified.
var jsonHeader = map[string][]string{"Content-Type": {"application/json"}}

func (h *Hello) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if h.pc == nil {
		return nil, pluginsdk.Errorf("hello: not configured")
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("hello: %v", err)
	}
	switch req.Action {
	case "greet":
		var in struct {
			Name string `json:"name"`
		}
		if err := decodeInput(req.Input, &in); err != nil {
			return nil, err
		}
		if in.Name == "" {
			return nil, pluginsdk.Errorf("greet: missing input name")
		}
		o := fields.NewObject(nil)
		o.String("message", h.cfg.Greeting+", "+in.Name+"!")
		return &pluginsdk.PerformResult{Output: o.Bytes()}, nil
	case "echo":
		if len(req.Input) > 0 && !fields.Valid(req.Input) {
			return nil, pluginsdk.Errorf("echo: input is not valid JSON")
		}
		return &pluginsdk.PerformResult{Output: req.Input}, nil
	case "notify":
		return h.notify(ctx, req)
	case "count":
		return h.count(ctx, req)
	}
	return nil, pluginsdk.Errorf("hello: unknown action %q", req.Action)
}

func (h *Hello) notify(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if h.cfg.WebhookURL == "" {
		return nil, pluginsdk.Errorf("notify: config webhook_url is not set")
	}
	if h.pc.HTTP == nil {
		return nil, pluginsdk.Errorf("notify: the connection has no HTTP access")
	}
	body := req.Input
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !fields.Valid(body) {
		return nil, pluginsdk.Errorf("notify: input is not valid JSON")
	}
	hdr := map[string][]string{"Content-Type": {"application/json"}}
	if req.IdempotencyKey != "" {
		hdr["Idempotency-Key"] = []string{req.IdempotencyKey}
	}
	resp, err := h.pc.HTTP.Do(ctx, &pluginsdk.HTTPRequest{Method: "POST", URL: h.cfg.WebhookURL, Header: hdr, Body: body})
	if err != nil {
		return nil, fmt.Errorf("notify %s: %w", h.cfg.WebhookURL, err)
	}
	switch {
	case resp.Status == 429 || resp.Status >= 500:
		return nil, pluginsdk.Retryable("notify %s: status %d", h.cfg.WebhookURL, resp.Status)
	case resp.Status >= 400:
		return nil, pluginsdk.Errorf("notify %s: status %d", h.cfg.WebhookURL, resp.Status)
	}
	o := fields.NewObject(nil)
	o.Int("status", int64(resp.Status))
	return &pluginsdk.PerformResult{Output: o.Bytes()}, nil
}

func (h *Hello) count(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	var in struct {
		Key string `json:"key"`
	}
	if err := decodeInput(req.Input, &in); err != nil {
		return nil, err
	}
	if in.Key == "" {
		return nil, pluginsdk.Errorf("count: missing input key")
	}
	if h.pc.KV == nil {
		return nil, pluginsdk.Errorf("count: the connection has no KV store")
	}
	key := "count/" + in.Key
	v, _, err := h.pc.KV.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	n, _ := strconv.ParseInt(string(v), 10, 64)
	n++
	if err := h.pc.KV.Set(ctx, key, strconv.AppendInt(nil, n, 10), 0); err != nil {
		return nil, fmt.Errorf("count: %w", err)
	}
	if h.pc.Log != nil {
		h.pc.Log.Debug("counted", "key", in.Key, "count", n)
	}
	o := fields.NewObject(nil)
	o.Int("count", n)
	return &pluginsdk.PerformResult{Output: o.Bytes()}, nil
}

func decodeInput(in json.RawMessage, v any) error {
	if len(in) == 0 {
		return nil
	}
	if err := json.Unmarshal(in, v); err != nil {
		return pluginsdk.Errorf("input: %v", err)
	}
	return nil
}

func firstByte(b []byte) byte {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c
	}
	return 0
}
