package main

import (
	"context"
	"crypto/sha256"
	"strconv"

	"github.com/junctionhub/junction/pluginsdk"
)

// Config is the connection's `config:` block.
//
//	config:
//	  shared_secret: ${SEGMENT_SHARED_SECRET}   # optional: verify X-Signature of Webhooks-destination posts
//	  dedup_window: 24h                         # optional: drop a repeated messageId within this window
//	  max_events: 1000                          # optional: the most messages one request may hold
//	  tag: {respect_dnt: true, require_consent: false}   # optional: the web tag's privacy settings
//
// The write key of the Tracking API is the connection's auth
// (`auth: {type: api_key, secret: <write key>}`), not a config key.
type Config struct {
	// dedup_window, pool_size and max_events (see pluginsdk.HostSettings):
	// max_events also caps the messages of one request here.
	pluginsdk.HostSettings
	// SharedSecret is the Webhooks destination's "Shared Secret": Segment
	// signs each post with X-Signature = hex(HMAC-SHA1(secret, body)).
	SharedSecret string `json:"shared_secret"`
	// Tag configures the web tag served at <hook URL>/tag.js (tag.go).
	Tag TagConfig `json:"tag"`
}

// Segment is the connector. After Configure it is read-only, so one
// instance may serve concurrent calls when built natively.
type Segment struct {
	configured bool
	// secret is the shared secret (nil: signatures are not checked).
	secret []byte
	// keyDigest is sha256 of the write key; hasKey says one is configured.
	// Comparing digests keeps the comparison constant-time whatever the
	// lengths.
	keyDigest [sha256.Size]byte
	hasKey    bool
	// maxEvents is the most messages one request may hold.
	maxEvents int
	// tag is the web tag as served, with this connection's settings.
	tag tagAsset
}

// Segment's documented limits for the Tracking API.
const (
	maxMessageBytes = 32 << 10  // one message
	maxBatchBytes   = 500 << 10 // one request
)

func (s *Segment) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name:        "segment",
		Version:     "1.0.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Twilio Segment: receives the Webhooks destination's posts (X-Signature checked) and the HTTP Tracking API of the Segment SDKs (/v1/batch, /v1/identify, /v1/track, /v1/page, /v1/screen, /v1/group, /v1/alias; write key as basic-auth user), and analytics.js's settings (GET /v1/projects/{writeKey}/settings) pointing back at the hook. One event per message, in its Segment shape; messageId is the dedup key.",
		Direction:   pluginsdk.Inbound,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthNone, pluginsdk.AuthAPIKey},
		Config: []pluginsdk.Param{
			{Name: "shared_secret", Type: pluginsdk.TypeSecret, Description: "Webhooks destination shared secret; when set, X-Signature (hex HMAC-SHA1 of the body) is verified."},
			{Name: "dedup_window", Type: pluginsdk.TypeDuration, Default: "24h", Description: "A message whose messageId was stored within this window is dropped (applied by the host)."},
			{Name: "pool_size", Type: pluginsdk.TypeNumber, Default: "4", Description: "Wasm instances serving requests at once (applied by the host)."},
			{Name: "max_events", Type: pluginsdk.TypeNumber, Default: strconv.Itoa(pluginsdk.DefaultMaxEvents), Description: "The most messages one request may hold; a request with more is refused whole with 413."},
			{Name: "tag", Type: pluginsdk.TypeObject, Description: "The web tag at <hook URL>/tag.js: respect_dnt (default true: a browser sending Do Not Track or Global Privacy Control is not tracked) and require_consent (default false: when true, nothing is sent or stored before the page calls junction.consent(true))."},
		},
		Roles: []string{pluginsdk.RoleReceive},
		Setup: setupSteps,
		// Segment's SDKs may gzip a batch (analytics-python's gzip
		// option, for one), as Segment's own API accepts. The
		// sender proves itself with X-Signature, the write key as the
		// basic-auth user, or writeKey in the body, so the host may not
		// refuse a request for lacking the first two.
		Push: pluginsdk.Push{
			Encodings: []string{pluginsdk.EncodingGzip},
			Credentials: []pluginsdk.Credential{
				{In: pluginsdk.CredentialSignature, Name: "X-Signature", Says: "X-Signature of the Webhooks destination"},
				{In: pluginsdk.CredentialBasic, Says: "write key as the HTTP basic-auth user"},
				{In: pluginsdk.CredentialBody, Says: "writeKey in the body"},
			},
		},
	}
}

func (s *Segment) Configure(_ context.Context, pc *pluginsdk.Context) error {
	// Strict: an unknown key is refused by name, so a typo (sharedsecret)
	// never silently disables a check.
	var cfg Config
	problems := pluginsdk.DecodeConfig(pc.Config, &cfg)
	cfg.Check(problems)
	if err := problems.Err(); err != nil {
		return err
	}
	next := Segment{configured: true, maxEvents: cfg.EventCap(), tag: newTagAsset(cfg.Tag)}
	if cfg.SharedSecret != "" {
		next.secret = []byte(cfg.SharedSecret)
	}
	switch pc.Auth.Type {
	case "", pluginsdk.AuthNone:
	case pluginsdk.AuthAPIKey:
		if pc.Auth.Secret == "" {
			return pluginsdk.Errorf("auth: api_key needs a secret: the Segment source's write key")
		}
		next.keyDigest, next.hasKey = sha256.Sum256([]byte(pc.Auth.Secret)), true
	default:
		return pluginsdk.Errorf("auth: type %s is not supported; use api_key with the write key as secret, or none", pc.Auth.Type)
	}
	if !next.hasKey && next.secret == nil && pc.Log != nil {
		pc.Log.Warn("segment: no write key (auth api_key) and no shared_secret: anyone who can reach the hook URL can post events")
	}
	*s = next
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
