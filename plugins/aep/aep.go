package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// Config is the connection's `config:` block; every key is optional.
//
//	config:
//	  dedup_window: 24h   # an identical profile re-posted within the window is dropped
//
// The credentials are the connection's auth: `auth: {type: basic,
// username: <user>, password: <API token>}`, the same pair entered in the
// AEP destination.
type Config struct {
	// dedup_window, pool_size and max_events (see pluginsdk.HostSettings):
	// max_events also caps the profiles of one posted array here.
	pluginsdk.HostSettings
}

// AEP is the connector. After Configure it is read-only.
type AEP struct {
	configured bool
	// Digests of the expected credentials: comparing fixed-size digests in
	// constant time leaks neither content nor length.
	user, token [sha256.Size]byte
	maxEvents   int
}

func (a *AEP) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name:        "aep",
		Version:     "1.0.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Adobe Experience Platform streaming HTTP destination (Qualtrics Automations): one event per posted profile, kept exactly as posted ($.identityMap.Email[0].id, $.person.name.firstName, $.segmentMembership.ups.<segment>.status realized|exited). HTTP basic auth: username and API token.",
		Direction:   pluginsdk.Inbound,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthBasic},
		Config: []pluginsdk.Param{
			{Name: "dedup_window", Type: pluginsdk.TypeDuration, Default: "24h", Description: "An identical profile re-posted within this window is dropped (applied by the host)."},
			{Name: "pool_size", Type: pluginsdk.TypeNumber, Default: "4", Description: "Wasm instances serving requests at once (applied by the host)."},
			{Name: "max_events", Type: pluginsdk.TypeNumber, Default: strconv.Itoa(pluginsdk.DefaultMaxEvents), Description: "The most profiles one posted array may hold; a request with more is refused whole with 413."},
		},
		Roles: []string{pluginsdk.RoleReceive},
		Setup: []pluginsdk.SetupStep{
			{Title: "Destination endpoint", Text: "{{.URL}}",
				Help: "AEP: Destinations → Catalog → Qualtrics Automations (or an HTTP API destination) → Configure: the endpoint URL."},
			{Title: "Destination credentials", Text: "Username: {{.Username}}\nAPI token: {{.Password}}",
				Help: "The same screen: the username and API token, sent as HTTP basic auth with every profile."},
		},
		// The destination sends basic credentials with every request, so
		// the host refuses one without them before reading its body.
		Push: pluginsdk.Push{Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialBasic}}},
	}
}

func (a *AEP) Configure(_ context.Context, pc *pluginsdk.Context) error {
	var cfg Config
	problems := pluginsdk.DecodeConfig(pc.Config, &cfg)
	cfg.Check(problems)
	if err := problems.Err(); err != nil {
		return err
	}
	if pc.Auth.Type != pluginsdk.AuthBasic {
		return pluginsdk.Errorf("auth: type basic is required, with the username and the API token (as password) entered in the AEP destination; got %q", pc.Auth.Type)
	}
	var missing []string
	if pc.Auth.Username == "" {
		missing = append(missing, "username")
	}
	if pc.Auth.Password == "" {
		missing = append(missing, "password")
	}
	if len(missing) > 0 {
		return pluginsdk.Errorf("auth: basic needs %s (the password is the AEP destination's API token)", strings.Join(missing, " and "))
	}
	*a = AEP{configured: true, user: sha256.Sum256([]byte(pc.Auth.Username)), token: sha256.Sum256([]byte(pc.Auth.Password)), maxEvents: cfg.EventCap()}
	return nil
}

// Receive stores each posted profile as one event, byte for byte. AEP
// posts one profile per request; an array of profiles is accepted too,
// one event each, with non-objects rejected by index (the others stored).
func (a *AEP) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if !a.configured {
		return nil, pluginsdk.Errorf("aep: not configured")
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("aep: %v", err)
	}
	if p := strings.TrimSuffix(req.Path, "/"); p != "" {
		return nil, &pluginsdk.Error{Status: 404, Code: "not_found", Message: fmt.Sprintf("no AEP endpoint at %q: the destination's endpoint is the hook URL itself", req.Path)}
	}
	if req.Method != "POST" && req.Method != "PUT" {
		return nil, &pluginsdk.Error{Status: 405, Code: "method_not_allowed", Message: fmt.Sprintf("method %s is not allowed here; use POST", req.Method)}
	}
	if !a.authorized(req.HeaderValue("Authorization")) {
		return nil, pluginsdk.Unauthorized("missing or wrong HTTP basic credentials: use the username and API token of this connection in the AEP destination")
	}
	body := trimSpace(req.Body)
	switch {
	case len(body) == 0:
		return nil, pluginsdk.BadRequest("malformed request: the body is empty")
	case body[0] == '{':
		if err := validator.Extract(body, nil); err != nil {
			return nil, pluginsdk.BadRequest("malformed request: %v", err)
		}
		return &pluginsdk.ReceiveResult{Events: []pluginsdk.Event{profileEvent(body)}, Response: okResponse()}, nil
	case body[0] == '[':
		docs, err := fields.Elements(body)
		if err != nil {
			return nil, pluginsdk.BadRequest("malformed request: %v", err)
		}
		if len(docs) > a.maxEvents {
			return nil, &pluginsdk.Error{Status: 413, Code: "too_many_events", Message: fmt.Sprintf(
				"the request holds %d profiles, more than this connection's limit of %d (config.max_events); nothing was stored: send smaller arrays", len(docs), a.maxEvents)}
		}
		return profiles(docs)
	}
	return nil, pluginsdk.BadRequest("malformed request: the body must be a JSON object (one profile)")
}

func profiles(docs [][]byte) (*pluginsdk.ReceiveResult, error) {
	if len(docs) == 0 {
		return nil, pluginsdk.BadRequest("the array holds no profiles")
	}
	res := &pluginsdk.ReceiveResult{Events: make([]pluginsdk.Event, 0, len(docs))}
	for i, doc := range docs {
		if doc[0] != '{' {
			res.Rejected = append(res.Rejected, pluginsdk.ItemError{Index: i, Message: "not a JSON object"})
			continue
		}
		res.Events = append(res.Events, profileEvent(doc))
	}
	if len(res.Rejected) == 0 {
		res.Response = okResponse()
		return res, nil
	}
	b := []byte(`{"success":false,"accepted":`)
	b = strconv.AppendInt(b, int64(len(res.Events)), 10)
	b = append(b, `,"rejected":[`...)
	for i, r := range res.Rejected {
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
	o.String("code", "invalid_profiles")
	o.String("message", fmt.Sprintf("%d of %d profiles were rejected (listed by index in \"rejected\"); the other %d were stored", len(res.Rejected), len(docs), len(res.Events)))
	res.Response = pluginsdk.HTTPResponse{Status: 400, Header: jsonHeader, Body: append(o.Bytes(), '}')}
	return res, nil
}

// profileEvent keeps the profile exactly as posted. AEP re-sends a
// profile whenever a segment qualification changes, so the same person
// arrives many times with different content; an identical body is a
// redelivery, and its hash is the dedup key.
func profileEvent(doc []byte) pluginsdk.Event {
	sum := sha256.Sum256(doc)
	return pluginsdk.Event{Payload: doc, Type: "profile", DedupKey: "sha256:" + hex.EncodeToString(sum[:])}
}

func (a *AEP) authorized(authz string) bool {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authz), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	user, token, ok := strings.Cut(string(dec), ":")
	if !ok {
		return false
	}
	u, t := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(token))
	// Both compared, always: no early exit tells which one was wrong.
	return subtle.ConstantTimeCompare(u[:], a.user[:])&subtle.ConstantTimeCompare(t[:], a.token[:]) == 1
}

// validator checks a whole document (host-assisted under Wasm) and says
// where it breaks.
var validator = fields.MustCompile()

var jsonHeader = map[string][]string{"Content-Type": {"application/json"}}

func okResponse() pluginsdk.HTTPResponse {
	return pluginsdk.HTTPResponse{Status: 200, Header: jsonHeader, Body: []byte(`{"success":true}`)}
}

func trimSpace(b []byte) []byte {
	i, j := 0, len(b)
	for i < j && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	for j > i && (b[j-1] == ' ' || b[j-1] == '\t' || b[j-1] == '\n' || b[j-1] == '\r') {
		j--
	}
	return b[i:j]
}
