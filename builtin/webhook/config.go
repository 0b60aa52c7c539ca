package webhook

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Defaults of the connection's config block.
const (
	DefaultMethod  = http.MethodPost
	DefaultTimeout = 10 * time.Second
	// MaxTimeout keeps a stuck target from holding a workflow task for long;
	// the engine's retries are the way to wait longer.
	MaxTimeout = 5 * time.Minute
)

// Config is a webhook connection's `config:` block. Every key is optional:
// an inbound-only connection needs none, an outbound one needs url.
//
//	url:              outbound target, absolute http(s) URL (required to perform `post`)
//	method:           POST (default), PUT or PATCH
//	headers:          extra request headers, {name: value}
//	signing_secret:   when set, X-Junction-Signature: sha256=<hex HMAC-SHA256(secret, body)>
//	timeout:          outbound request timeout, a Go duration (default 10s, at most 5m)
//	dedup_key_header: inbound: a request header whose value is the events' dedup key (e.g. Idempotency-Key)
//	dedup_path:       inbound: a top-level key of each object whose value is its dedup key (e.g. id)
//	max_events:       inbound: the most objects one request's array may hold (default 1000); more is refused with 413
type Config struct {
	URL            string            `json:"url"`
	Method         string            `json:"method"`
	Headers        map[string]string `json:"headers"`
	SigningSecret  string            `json:"signing_secret"`
	Timeout        time.Duration     `json:"timeout"` // read as pluginsdk.Duration
	DedupKeyHeader string            `json:"dedup_key_header"`
	DedupPath      string            `json:"dedup_path"`
	MaxEvents      int               `json:"max_events"`
}

// reservedHeaders are set by the connector itself; letting config or input
// override them would break the body's signature or the retry contract.
var reservedHeaders = map[string]bool{
	"Content-Type":         true,
	"Content-Length":       true,
	"Host":                 true,
	"Idempotency-Key":      true,
	"X-Junction-Signature": true,
	"Transfer-Encoding":    true,
}

// checkHeaders validates extra headers and returns them canonicalised.
func checkHeaders(where string, h map[string]string) (map[string][]string, []string) {
	var problems []string
	out := make(map[string][]string, len(h))
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := h[k]
		ck := textproto.CanonicalMIMEHeaderKey(k)
		switch {
		case !validHeaderName(k):
			problems = append(problems, fmt.Sprintf("%s: %q is not a valid header name", where, k))
		case reservedHeaders[ck]:
			problems = append(problems, fmt.Sprintf("%s: %s is set by the webhook connector and cannot be overridden", where, ck))
		case strings.ContainsAny(v, "\r\n\x00"):
			problems = append(problems, fmt.Sprintf("%s: value of %s contains a line break or NUL", where, ck))
		default:
			out[ck] = []string{v}
		}
	}
	return out, problems
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// parseConfig decodes and validates raw, reporting every problem at once.
func parseConfig(raw json.RawMessage) (Config, error) {
	cfg := Config{Timeout: DefaultTimeout}
	problems := pluginsdk.DecodeConfig(raw, &cfg)
	problems.Check("config.timeout", pluginsdk.Duration(cfg.Timeout).Positive(MaxTimeout))
	if cfg.URL != "" {
		u, err := url.Parse(cfg.URL)
		switch {
		case err != nil:
			problems.At("config.url", "%v", err)
		case u.Scheme != "http" && u.Scheme != "https":
			problems.At("config.url", "scheme %q, want http or https", u.Scheme)
		case u.Host == "":
			problems.At("config.url", "has no host")
		}
	}
	cfg.Method = strings.ToUpper(strings.TrimSpace(cfg.Method))
	switch cfg.Method {
	case "":
		cfg.Method = DefaultMethod
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		problems.At("config.method", "%q, want POST, PUT or PATCH", cfg.Method)
	}
	_, hp := checkHeaders("config.headers", cfg.Headers)
	for _, h := range hp {
		problems.Addf("%s", h)
	}
	if cfg.DedupKeyHeader != "" {
		if !validHeaderName(cfg.DedupKeyHeader) {
			problems.At("config.dedup_key_header", "%q is not a valid header name", cfg.DedupKeyHeader)
		}
		cfg.DedupKeyHeader = textproto.CanonicalMIMEHeaderKey(cfg.DedupKeyHeader)
	}
	cfg.DedupPath = strings.TrimPrefix(cfg.DedupPath, "$.")
	if strings.ContainsAny(cfg.DedupPath, ".[]*$") {
		problems.At("config.dedup_path", "%q, want a top-level key such as id", cfg.DedupPath)
	}
	switch {
	case cfg.MaxEvents == 0:
		cfg.MaxEvents = pluginsdk.DefaultMaxEvents
	case cfg.MaxEvents < 0:
		problems.At("config.max_events", "%d, want a positive number of events per request", cfg.MaxEvents)
	}
	if cfg.DedupKeyHeader != "" && cfg.DedupPath != "" {
		problems.At("config", "set dedup_key_header or dedup_path, not both")
	}
	return cfg, problems.Err()
}

// spec is the webhook connector's Spec.
func spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name:        "webhook",
		Version:     "1.0.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Receives JSON posted to /hooks/{connection} and posts JSON to a URL.",
		Direction:   pluginsdk.Bidirectional,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthAPIKey, pluginsdk.AuthOAuth2, pluginsdk.AuthNone},
		Config: []pluginsdk.Param{
			{Name: "url", Type: pluginsdk.TypeString, Description: "Outbound target (absolute http or https URL); required for the post action."},
			{Name: "method", Type: pluginsdk.TypeString, Default: DefaultMethod, Description: "Outbound HTTP method: POST, PUT or PATCH."},
			{Name: "headers", Type: pluginsdk.TypeObject, Description: "Extra outbound request headers."},
			{Name: "signing_secret", Type: pluginsdk.TypeSecret, Description: "Signs outbound bodies: X-Junction-Signature: sha256=<hex HMAC-SHA256 of the body>."},
			{Name: "timeout", Type: pluginsdk.TypeDuration, Default: DefaultTimeout.String(), Description: "Outbound request timeout (at most 5m)."},
			{Name: "dedup_key_header", Type: pluginsdk.TypeString, Description: "Inbound request header holding a dedup key, e.g. Idempotency-Key."},
			{Name: "dedup_path", Type: pluginsdk.TypeString, Description: "Top-level key of each inbound object holding its dedup key, e.g. id."},
			{Name: "max_events", Type: pluginsdk.TypeNumber, Default: strconv.Itoa(pluginsdk.DefaultMaxEvents), Description: "Inbound: the most objects one request's array may hold; a larger one is refused with 413 and nothing is stored."},
		},
		Roles: []string{pluginsdk.RoleReceive, pluginsdk.RolePerform},
		Setup: []pluginsdk.SetupStep{{
			Title: "Test push",
			Text:  `curl -i -X POST {{shell .URL}} -H 'Content-Type: application/json'{{if .Secret}} -H {{shell (print "X-API-Key: " .Secret)}}{{end}} -d '{"id":"test-1"}'`,
			Help:  "Any sender: POST JSON (an object, or an array of objects) to the hook URL with the connection's key in X-API-Key.",
		}},
		// Senders that batch often gzip; the key is in a header, so the
		// host refuses a request without it before reading the body.
		Push: pluginsdk.Push{
			Encodings:   []string{pluginsdk.EncodingGzip},
			Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialHeader, Name: "X-Api-Key"}},
		},
		Actions: []pluginsdk.Action{{
			Name:        "post",
			Description: "Send the body as JSON to config.url.",
			Input: []pluginsdk.Param{
				{Name: "body", Type: pluginsdk.TypeObject, Required: true, Description: "Any JSON value, sent as the request body."},
				{Name: "headers", Type: pluginsdk.TypeObject, Description: "Extra headers for this request."},
			},
		}},
	}
}
