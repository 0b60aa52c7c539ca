// Package twilio is the builtin `twilio` connector: the `send_sms` action
// sends an SMS through Twilio's Messages API (or any API compatible with
// it), and inbound SMS webhooks (replies to a two-way survey, delivery
// statuses) posted to /hooks/{connection} become events.
//
// Design notes:
//   - Sending goes through the host's guarded HTTP client, so a
//     connection's network policy applies to it like to any connector; a
//     test or an on-premises gateway on a private address needs
//     network.allow_private.
//   - Twilio signs each webhook with the Auth Token over the URL it called
//     plus the sorted POST parameters. The URL is the one the hub was
//     called at, built from Settings.public_url: behind a proxy, public_url
//     must be exactly the scheme and host Twilio is configured with, or
//     every signature fails. The signature is checked in constant time
//     before anything in the body is used.
//   - Twilio retries a webhook it got no 2xx for, so each inbound message's
//     MessageSid is its event's dedup key.
//   - Errors keep Twilio's numeric code in the message ("twilio error
//     21211: ..."), which is what Twilio's error dictionary is indexed by;
//     429 and 5xx are retried, other 4xx are permanent.
package twilio

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

// Name is the connector's name in `connector:`.
const Name = "twilio"

func init() {
	connector.Register(connector.Builtin{Name: Name, New: New})
}

// Connector is the twilio connector; create it with New and Configure it
// before use.
type Connector struct {
	conn    string
	cfg     Config
	authz   string // the Authorization header for the API
	token   []byte // the Auth Token that signs webhooks; nil: cannot verify
	baseURL string // the hub's public base URL, for a request without URL
	http    pluginsdk.HTTPClient
	log     *slog.Logger
}

var (
	_ pluginsdk.Performer = (*Connector)(nil)
	_ pluginsdk.Receiver  = (*Connector)(nil)
)

// New returns an unconfigured twilio connector.
func New() pluginsdk.Connector { return &Connector{} }

// Spec describes the connector.
func (c *Connector) Spec() pluginsdk.Spec { return spec() }

// Configure checks the connection's config and auth. It does no I/O.
func (c *Connector) Configure(_ context.Context, pc *pluginsdk.Context) error {
	cfg, err := parseConfig(pc.Config)
	if err != nil {
		return pluginsdk.Errorf("connection %s: %v", pc.Connection, err)
	}
	if pc.Auth.Type != pluginsdk.AuthBasic || pc.Auth.Username == "" || pc.Auth.Password == "" {
		return pluginsdk.Errorf("connection %s: auth: want {type: basic, username: <Account SID>, password: <Auth Token>} (or an API key SID and secret)", pc.Connection)
	}
	var token []byte
	switch user := pc.Auth.Username; {
	case user == cfg.AccountSID:
		token = []byte(pc.Auth.Password)
		if cfg.WebhookAuthToken != "" && cfg.WebhookAuthToken != pc.Auth.Password {
			return pluginsdk.Errorf("connection %s: config.webhook_auth_token differs from auth.password; with the Account SID as user the password is the Auth Token, so leave webhook_auth_token out", pc.Connection)
		}
	case apiKeySIDRe.MatchString(user):
		if cfg.WebhookAuthToken != "" {
			token = []byte(cfg.WebhookAuthToken)
		}
	case accountSIDRe.MatchString(user):
		return pluginsdk.Errorf("connection %s: auth.username %s is not config.account_sid %s", pc.Connection, user, cfg.AccountSID)
	default:
		return pluginsdk.Errorf("connection %s: auth.username %q: want the Account SID (AC…) or an API key SID (SK…)", pc.Connection, user)
	}
	c.conn = pc.Connection
	c.cfg = cfg
	c.authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(pc.Auth.Username+":"+pc.Auth.Password))
	c.token = token
	c.baseURL = pc.BaseURL
	c.http = pc.HTTP
	c.log = pc.Log
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// String names the connector and connection in logs.
func (c *Connector) String() string { return fmt.Sprintf("twilio connection %s", c.conn) }

// spec is the twilio connector's Spec.
func spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name:        Name,
		Version:     "1.0.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Sends SMS through Twilio's Messages API; receives inbound SMS and delivery statuses as signed webhooks.",
		Direction:   pluginsdk.Bidirectional,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthBasic},
		Config: []pluginsdk.Param{
			{Name: "account_sid", Type: pluginsdk.TypeString, Required: true, Description: "The Account SID (AC…)."},
			{Name: "from", Type: pluginsdk.TypeString, Description: "Sender: an E.164 number or an alphanumeric sender ID (this or messaging_service_sid)."},
			{Name: "messaging_service_sid", Type: pluginsdk.TypeString, Description: "A Messaging Service (MG…) that picks the sender."},
			{Name: "base_url", Type: pluginsdk.TypeString, Default: DefaultBaseURL, Description: "Base URL of a Twilio-compatible API."},
			{Name: "status_callback", Type: pluginsdk.TypeString, Description: "URL Twilio posts delivery statuses to."},
			{Name: "webhook_auth_token", Type: pluginsdk.TypeSecret, Description: "The Auth Token that signs webhooks, when auth uses an API key."},
			{Name: "timeout", Type: pluginsdk.TypeDuration, Default: DefaultTimeout.String(), Description: "Per API request (at most 2m)."},
		},
		Roles: []string{pluginsdk.RoleReceive, pluginsdk.RolePerform},
		// auth holds the account's credentials for outbound calls; Twilio
		// proves its webhooks with a signature the connector verifies, so
		// the host refuses a post without one before reading its body.
		Push: pluginsdk.Push{Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialSignature, Name: SignatureHeader}}},
		Actions: []pluginsdk.Action{{
			Name:        ActionSendSMS,
			Description: "Send one SMS; the output is Twilio's message sid and status.",
			Input: []pluginsdk.Param{
				{Name: "to", Type: pluginsdk.TypeString, Required: true, Description: "Recipient phone number, E.164 (+393331234567)."},
				{Name: "body", Type: pluginsdk.TypeString, Required: true, Description: "The text, at most 1600 characters."},
				{Name: "from", Type: pluginsdk.TypeString, Description: "Overrides config.from for this message."},
			},
		}},
	}
}
