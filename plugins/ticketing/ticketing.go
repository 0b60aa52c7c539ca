package main

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Ticketing connects one help-desk account: its webhooks in, notes out.
type Ticketing struct {
	cfg    settings
	secret []byte // signing_secret, the key of the webhooks' HMAC
	token  string // auth api_key: the API token of add_note
	http   pluginsdk.HTTPClient
	kv     pluginsdk.KV
	log    *slog.Logger
}

// settings is the connection's `config:` block. Defaults are set before
// decoding: an absent key keeps them.
type settings struct {
	APIURL        string             `json:"api_url"`
	SigningSecret string             `json:"signing_secret"`
	Timeout       pluginsdk.Duration `json:"timeout"`
	// HostSettings: dedup_window, pool_size and max_events, read by the host.
	pluginsdk.HostSettings
}

// SignatureHeader carries hex(HMAC-SHA256(signing_secret, body)), prefixed
// "sha256=".
const SignatureHeader = "X-Ticketing-Signature"

// Spec declares the connector. Its Name must be the manifest's
// (junction-plugin.yaml); its Version is declared here only, and `junction
// plugin build` writes it into the built manifest.
func (t *Ticketing) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name: "ticketing", Version: "0.1.0", ABI: pluginsdk.ABIVersion,
		Description: "Help-desk tickets: signed webhooks in, notes out",
		Direction:   pluginsdk.Bidirectional,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthAPIKey},
		Config: []pluginsdk.Param{
			{Name: "api_url", Type: pluginsdk.TypeString, Required: true, Description: "base URL of the help desk's REST API"},
			{Name: "signing_secret", Type: pluginsdk.TypeSecret, Required: true, Description: "shared secret the help desk signs its webhooks with"},
			{Name: "timeout", Type: pluginsdk.TypeDuration, Default: "10s", Description: "per-request timeout of add_note"},
		},
		Roles: []string{pluginsdk.RoleReceive, pluginsdk.RolePerform},
		Actions: []pluginsdk.Action{{
			Name: "add_note", Description: "add a note to a ticket",
			Input: []pluginsdk.Param{
				{Name: "ticket_id", Type: pluginsdk.TypeString, Required: true},
				{Name: "body", Type: pluginsdk.TypeString, Required: true},
				{Name: "public", Type: pluginsdk.TypeBoolean, Description: "visible to the requester (default false)"},
			},
		}},
		// Under any auth but none, the host refuses a push without this
		// header (401) before reading its body; Receive checks the
		// signature itself.
		Push: pluginsdk.Push{Credentials: []pluginsdk.Credential{
			{In: pluginsdk.CredentialSignature, Name: SignatureHeader, Says: "the help desk's webhook signature"},
		}},
	}
}

// Configure checks every key at once and keeps the host's services.
func (t *Ticketing) Configure(_ context.Context, c *pluginsdk.Context) error {
	cfg := settings{Timeout: pluginsdk.Duration(10 * time.Second)}
	problems := pluginsdk.DecodeConfig(c.Config, &cfg)
	if u, err := url.Parse(cfg.APIURL); cfg.APIURL == "" {
		problems.At("config.api_url", "required")
	} else if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		problems.At("config.api_url", "want an http or https URL, got %q", cfg.APIURL)
	}
	if cfg.SigningSecret == "" {
		problems.At("config.signing_secret", "required")
	}
	problems.Check("config.timeout", cfg.Timeout.Positive(time.Minute))
	cfg.HostSettings.Check(problems)
	if c.Auth.Type != pluginsdk.AuthAPIKey || c.Auth.Secret == "" {
		problems.At("auth", "want {type: api_key, secret: <API token>}")
	}
	if err := problems.Err(); err != nil {
		return err
	}
	cfg.APIURL = strings.TrimSuffix(cfg.APIURL, "/")
	t.cfg, t.secret, t.token = cfg, []byte(cfg.SigningSecret), c.Auth.Secret
	t.http, t.kv, t.log = c.HTTP, c.KV, c.Log
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	return nil
}
