// Package smtp is the builtin `smtp` connector: the `send_email` action
// sends one MIME message (text and/or HTML, List-Unsubscribe) through an SMTP
// submission server, with STARTTLS and AUTH.
//
// Design notes:
//   - The client is net/smtp from the standard library, driven over a
//     connection this package dials, so that the task's context deadline
//     bounds the whole exchange (net/smtp itself takes no context).
//   - Certificates are always verified. A private relay's CA is given as
//     ca_cert and then trusted instead of the system roots; there is no
//     "skip verification" switch, because a config that is easy to ship
//     to production with it on is a config that eventually will be.
//   - With starttls (the default) a server that does not offer STARTTLS is
//     an error, never a silent fall-back to plain text: the password would
//     travel in the clear.
//   - Errors follow the SMTP reply class: 5xx replies are permanent (a
//     wrong password, a rejected recipient: retrying cannot help), 4xx
//     replies and network faults are retried by the engine.
//   - The Message-ID is derived from the task's idempotency key, so a
//     retry after an interrupted exchange sends the same Message-ID.
package smtp

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

// Name is the connector's name in `connector:`.
const Name = "smtp"

func init() {
	connector.Register(connector.Builtin{Name: Name, New: New})
}

// Connector is the smtp connector; create it with New and Configure it
// before use.
type Connector struct {
	conn     string
	cfg      Config
	user     string
	password string
	tls      *tls.Config
	log      *slog.Logger
	now      func() time.Time
	// dial opens the TCP connection; tests replace it to inject faults.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ pluginsdk.Performer = (*Connector)(nil)

// New returns an unconfigured smtp connector.
func New() pluginsdk.Connector { return &Connector{} }

// Spec describes the connector.
func (c *Connector) Spec() pluginsdk.Spec { return spec() }

// Configure checks the connection's config and auth. It does no I/O.
func (c *Connector) Configure(_ context.Context, pc *pluginsdk.Context) error {
	cfg, err := parseConfig(pc.Config)
	if err != nil {
		return pluginsdk.Errorf("connection %s: %v", pc.Connection, err)
	}
	switch pc.Auth.Type {
	case "", pluginsdk.AuthNone:
		c.user, c.password = "", ""
	case pluginsdk.AuthBasic:
		if pc.Auth.Username == "" || pc.Auth.Password == "" {
			return pluginsdk.Errorf("connection %s: auth.username and auth.password are required for basic auth (the SMTP account)", pc.Connection)
		}
		if !cfg.StartTLS && !cfg.ImplicitTLS && !isLoopback(cfg.Host) {
			return pluginsdk.Errorf("connection %s: auth over an unencrypted connection to %s: set starttls: true (or implicit_tls: true) so the password is not sent in the clear", pc.Connection, cfg.Host)
		}
		c.user, c.password = pc.Auth.Username, pc.Auth.Password
	default:
		return pluginsdk.Errorf("connection %s: auth.type %q is not supported by the smtp connector (use basic or none)", pc.Connection, pc.Auth.Type)
	}
	c.conn = pc.Connection
	c.cfg = cfg
	c.tls = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12, RootCAs: cfg.CACert}
	c.log = pc.Log
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.dial == nil {
		d := &net.Dialer{Timeout: 10 * time.Second}
		c.dial = d.DialContext
	}
	return nil
}

// addr is host:port of the server.
func (c *Connector) addr() string { return net.JoinHostPort(c.cfg.Host, strconv.Itoa(c.cfg.Port)) }

// String names the connector and connection in logs.
func (c *Connector) String() string { return fmt.Sprintf("smtp connection %s", c.conn) }

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// spec is the smtp connector's Spec.
func spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name:        Name,
		Version:     "1.0.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Sends email (text and HTML, List-Unsubscribe) through an SMTP submission server with STARTTLS and AUTH.",
		Direction:   pluginsdk.Outbound,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthBasic, pluginsdk.AuthNone},
		Config: []pluginsdk.Param{
			{Name: "host", Type: pluginsdk.TypeString, Required: true, Description: "SMTP server name, e.g. smtp.example.com."},
			{Name: "port", Type: pluginsdk.TypeNumber, Default: strconv.Itoa(DefaultPort), Description: "SMTP port: 587 (submission with STARTTLS) or 465 (implicit TLS)."},
			{Name: "starttls", Type: pluginsdk.TypeBoolean, Default: "true", Description: "Upgrade the connection with STARTTLS; fail if the server does not offer it."},
			{Name: "implicit_tls", Type: pluginsdk.TypeBoolean, Default: "true on port 465", Description: "TLS from the first byte (SMTPS)."},
			{Name: "from", Type: pluginsdk.TypeString, Required: true, Description: `The sender, e.g. "Surveys <surveys@example.com>".`},
			{Name: "reply_to", Type: pluginsdk.TypeString, Description: "Where replies go."},
			{Name: "ca_cert", Type: pluginsdk.TypeString, Description: "PEM of the CA that signed the server certificate, trusted instead of the system roots."},
			{Name: "helo_name", Type: pluginsdk.TypeString, Default: "localhost", Description: "The name sent in EHLO."},
			{Name: "timeout", Type: pluginsdk.TypeDuration, Default: DefaultTimeout.String(), Description: "Bound on the SMTP exchange of one message (at most 5m)."},
		},
		Roles: []string{pluginsdk.RolePerform},
		Actions: []pluginsdk.Action{{
			Name:        ActionSendEmail,
			Description: "Send one email: text and/or HTML parts, List-Unsubscribe when given.",
			Input: []pluginsdk.Param{
				{Name: "to", Type: pluginsdk.TypeList, Required: true, Description: "Recipient address, or a list of them."},
				{Name: "subject", Type: pluginsdk.TypeString, Required: true},
				{Name: "text", Type: pluginsdk.TypeString, Description: "Plain-text body (text or html is required)."},
				{Name: "html", Type: pluginsdk.TypeString, Description: "HTML body."},
				{Name: "reply_to", Type: pluginsdk.TypeString, Description: "Overrides config.reply_to for this message."},
				{Name: "list_unsubscribe", Type: pluginsdk.TypeList, Description: "mailto: and https: URIs for List-Unsubscribe; an https one adds List-Unsubscribe-Post (one-click, RFC 8058)."},
				{Name: "headers", Type: pluginsdk.TypeObject, Description: "Extra headers, {name: value}."},
			},
		}},
	}
}
