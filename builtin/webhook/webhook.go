// Package webhook is the builtin `webhook` connector: it receives JSON posted
// to /hooks/{connection} (one event per object) and, as the `post` action,
// sends JSON to a configured URL through the host's guarded HTTP client.
//
// Design notes:
//   - Inbound requests are accepted or refused whole. The response (202
//     {"accepted": N}) is returned by the host only after the N events are
//     stored, so it promises nothing the host has not done.
//   - The API key is compared as SHA-256 digests with
//     crypto/subtle.ConstantTimeCompare: equal-length inputs make the
//     comparison's time independent of both the key's content and length.
//   - Outbound bodies are signed over the exact bytes sent and carry the
//     run's idempotency key, so a receiver can verify and deduplicate
//     retries. No timestamp is signed: replay protection is the
//     Idempotency-Key's job, and leaving it out keeps verification a
//     one-liner for receivers.
package webhook

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"strings"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/connector/oauth"
	"github.com/junctionhub/junction/pluginsdk"
)

func init() {
	connector.Register(connector.Builtin{Name: "webhook", New: New})
}

// Connector is the webhook connector; create it with New and Configure it
// before use.
type Connector struct {
	conn    string
	cfg     Config
	headers map[string][]string // config headers, canonical
	apiKey  []byte              // SHA-256 of the inbound API key; nil: no key check
	secret  []byte              // outbound signing secret; nil: unsigned
	oauth   *oauth.TokenSource  // outbound bearer tokens; nil: no oauth2
	http    pluginsdk.HTTPClient
	log     *slog.Logger
}

var (
	_ pluginsdk.Receiver  = (*Connector)(nil)
	_ pluginsdk.Performer = (*Connector)(nil)
)

// New returns an unconfigured webhook connector.
func New() pluginsdk.Connector { return &Connector{} }

// Spec describes the connector.
func (c *Connector) Spec() pluginsdk.Spec { return spec() }

// Configure checks the connection's config and auth. It does no I/O.
func (c *Connector) Configure(ctx context.Context, pc *pluginsdk.Context) error {
	cfg, err := parseConfig(pc.Config)
	if err != nil {
		return pluginsdk.Errorf("connection %s: %v", pc.Connection, err)
	}
	var apiKey []byte
	var tokens *oauth.TokenSource
	switch pc.Auth.Type {
	case "", pluginsdk.AuthNone:
	case pluginsdk.AuthAPIKey:
		if pc.Auth.Secret == "" {
			return pluginsdk.Errorf("connection %s: auth.secret is empty; an api_key connection needs the key inbound callers send as X-API-Key", pc.Connection)
		}
		sum := sha256.Sum256([]byte(pc.Auth.Secret))
		apiKey = sum[:]
	case pluginsdk.AuthOAuth2:
		// Outbound only: the post carries a bearer token from token_url,
		// requested through the same guarded client as the post itself.
		if pc.HTTP == nil {
			return pluginsdk.Errorf("connection %s: auth type oauth2 needs the host's HTTP client", pc.Connection)
		}
		if hasHeader(cfg.Headers, "Authorization") {
			return pluginsdk.Errorf("connection %s: config.headers sets Authorization, which auth type oauth2 sets to the bearer token; remove one", pc.Connection)
		}
		ts, err := oauth.FromAuth(pc.HTTP, pc.Auth)
		if err != nil {
			return pluginsdk.Errorf("connection %s: auth: %v", pc.Connection, err)
		}
		tokens = ts
	default:
		return pluginsdk.Errorf("connection %s: auth.type %q is not supported by the webhook connector (use api_key, oauth2 or none)", pc.Connection, pc.Auth.Type)
	}
	headers, _ := checkHeaders("config.headers", cfg.Headers) // validated by parseConfig
	c.conn = pc.Connection
	c.cfg = cfg
	c.headers = headers
	c.apiKey = apiKey
	c.oauth = tokens
	c.secret = nil
	if cfg.SigningSecret != "" {
		c.secret = []byte(cfg.SigningSecret)
	}
	c.http = pc.HTTP
	c.log = pc.Log
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// hasHeader reports whether h names header, in any letter case.
func hasHeader(h map[string]string, header string) bool {
	for k := range h {
		if strings.EqualFold(k, header) {
			return true
		}
	}
	return false
}

// String names the connector and connection in logs.
func (c *Connector) String() string { return fmt.Sprintf("webhook connection %s", c.conn) }
