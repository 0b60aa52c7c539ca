package smtp

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// ActionSendEmail is the one action the connector performs.
const ActionSendEmail = "send_email"

// emailInput is the `with:` block of a `<connection>.send_email` task.
type emailInput struct {
	To              stringList        `json:"to"`
	Subject         string            `json:"subject"`
	Text            string            `json:"text"`
	HTML            string            `json:"html"`
	ReplyTo         string            `json:"reply_to"`
	ListUnsubscribe stringList        `json:"list_unsubscribe"`
	Headers         map[string]string `json:"headers"`
}

// stringList is a JSON string or list of strings.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*l = nil
		if strings.TrimSpace(s) != "" {
			*l = stringList{strings.TrimSpace(s)}
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("want a string or a list of strings, got %.40s", b)
	}
	*l = nil
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// Output is the task output of a sent email.
type Output struct {
	// MessageID is the Message-ID header, angle brackets included: the
	// provider message id of the email.
	MessageID string   `json:"messageId"`
	To        []string `json:"to"`
}

// Perform sends one email. See the package doc for which errors are
// retryable.
func (c *Connector) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("connection %s: send_email: %v", c.conn, context.Cause(ctx))
	}
	if req.Action != ActionSendEmail {
		return nil, pluginsdk.Errorf("connection %s: unknown action %q; the smtp connector performs %q", c.conn, req.Action, ActionSendEmail)
	}
	msg, err := c.compose(req)
	if err != nil {
		return nil, pluginsdk.Errorf("connection %s: send_email input: %v", c.conn, err)
	}
	raw, err := msg.build()
	if err != nil {
		return nil, pluginsdk.Errorf("connection %s: send_email input: %v", c.conn, err)
	}
	rcpt := make([]string, len(msg.To))
	for i, a := range msg.To {
		rcpt[i] = a.Address
	}
	start := c.now()
	if err := c.send(ctx, msg.From.Address, rcpt, raw); err != nil {
		c.log.Warn("send email failed", "to", strings.Join(rcpt, ","), "error", err)
		return nil, err
	}
	c.log.Debug("email sent", "to", strings.Join(rcpt, ","), "message_id", msg.MessageID, "took", c.now().Sub(start))
	out, err := json.Marshal(Output{MessageID: msg.MessageID, To: rcpt})
	if err != nil {
		return nil, pluginsdk.Errorf("connection %s: encode output: %v", c.conn, err)
	}
	return &pluginsdk.PerformResult{Output: out}, nil
}

// compose checks the input and builds the message to send.
func (c *Connector) compose(req *pluginsdk.PerformRequest) (*message, error) {
	var in emailInput
	dec := json.NewDecoder(bytes.NewReader(req.Input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("want an object with to, subject, text, html, reply_to, list_unsubscribe, headers: %v", err)
	}
	if len(in.To) == 0 {
		return nil, errors.New("to is required")
	}
	if len(in.To) > maxRcpt {
		return nil, fmt.Errorf("to has %d recipients, at most %d", len(in.To), maxRcpt)
	}
	m := &message{From: c.cfg.From, ReplyTo: c.cfg.ReplyTo, Text: in.Text, HTML: in.HTML,
		ListUnsubscribe: in.ListUnsubscribe, Date: c.now()}
	for _, s := range in.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("to: %q is not an email address", s)
		}
		m.To = append(m.To, a)
	}
	m.Subject = strings.TrimSpace(in.Subject)
	switch {
	case m.Subject == "":
		return nil, errors.New("subject is required")
	case strings.ContainsAny(m.Subject, "\r\n\x00"):
		return nil, errors.New("subject contains a line break or NUL")
	case len(m.Subject) > maxSubject:
		return nil, fmt.Errorf("subject is %d bytes, more than %d", len(m.Subject), maxSubject)
	}
	if rt := strings.TrimSpace(in.ReplyTo); rt != "" {
		a, err := mail.ParseAddress(rt)
		if err != nil {
			return nil, fmt.Errorf("reply_to: %q is not an email address", rt)
		}
		m.ReplyTo = a
	}
	if err := checkUnsubscribe(in.ListUnsubscribe); err != nil {
		return nil, err
	}
	h, err := checkHeaders(in.Headers)
	if err != nil {
		return nil, err
	}
	m.Headers = h
	m.MessageID = messageID(req.IdempotencyKey, domainOf(c.cfg.From.Address))
	return m, nil
}

// send runs one SMTP transaction: connect, EHLO, STARTTLS, AUTH, MAIL,
// RCPT for each recipient, DATA.
func (c *Connector) send(ctx context.Context, from string, rcpt []string, msg []byte) error {
	deadline := c.now().Add(c.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	conn, err := c.dial(ctx, "tcp", c.addr())
	if err != nil {
		return c.fail(ctx, "connect to "+c.addr(), err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(deadline)
	// net/smtp takes no context: a cancelled task unblocks it by expiring
	// the connection's deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	encrypted := false
	if c.cfg.ImplicitTLS {
		tc := tls.Client(conn, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return c.fail(ctx, "TLS handshake with "+c.addr(), err)
		}
		conn, encrypted = tc, true
	}
	cl, err := smtp.NewClient(conn, c.cfg.Host)
	if err != nil {
		return c.fail(ctx, "smtp server "+c.addr()+" greeting", err)
	}
	defer cl.Close()
	if err := cl.Hello(c.cfg.HeloName); err != nil {
		return c.fail(ctx, "smtp EHLO to "+c.addr(), err)
	}
	if c.cfg.StartTLS {
		if ok, _ := cl.Extension("STARTTLS"); !ok {
			return &pluginsdk.Error{Code: "smtp_no_starttls", Message: fmt.Sprintf(
				"connection %s: smtp server %s does not offer STARTTLS; use a server or port that does, or set starttls: false for a relay on a trusted network", c.conn, c.addr())}
		}
		if err := cl.StartTLS(c.tls); err != nil {
			return c.fail(ctx, "smtp STARTTLS with "+c.addr(), err)
		}
		encrypted = true
	}
	if c.user != "" {
		if err := c.auth(ctx, cl, encrypted); err != nil {
			return err
		}
	}
	if err := cl.Mail(from); err != nil {
		return c.fail(ctx, "smtp server rejected sender "+from, err)
	}
	for _, r := range rcpt {
		if err := cl.Rcpt(r); err != nil {
			return c.fail(ctx, "smtp server rejected recipient "+r, err)
		}
	}
	w, err := cl.Data()
	if err != nil {
		return c.fail(ctx, "smtp server refused DATA for "+strings.Join(rcpt, ", "), err)
	}
	if _, err := w.Write(msg); err != nil {
		return c.fail(ctx, "smtp send message to "+strings.Join(rcpt, ", "), err)
	}
	if err := w.Close(); err != nil {
		return c.fail(ctx, "smtp server rejected the message to "+strings.Join(rcpt, ", "), err)
	}
	// The message is accepted once DATA's final reply is 2xx; a failed QUIT
	// changes nothing about that.
	_ = cl.Quit()
	return nil
}

// auth logs in with PLAIN, or LOGIN where the server offers only that.
func (c *Connector) auth(ctx context.Context, cl *smtp.Client, encrypted bool) error {
	ok, params := cl.Extension("AUTH")
	if !ok {
		return &pluginsdk.Error{Code: "smtp_no_auth", Message: fmt.Sprintf(
			"connection %s: smtp server %s does not offer AUTH; remove auth from the connection if it relays without login", c.conn, c.addr())}
	}
	mechs := strings.Fields(strings.ToUpper(params))
	var a smtp.Auth
	switch {
	case slices.Contains(mechs, "PLAIN"):
		a = smtp.PlainAuth("", c.user, c.password, c.cfg.Host)
	case slices.Contains(mechs, "LOGIN"):
		a = &loginAuth{user: c.user, password: c.password, host: c.cfg.Host}
	default:
		return &pluginsdk.Error{Code: "smtp_auth_mechanism", Message: fmt.Sprintf(
			"connection %s: smtp server %s offers AUTH %s; the smtp connector speaks PLAIN and LOGIN", c.conn, c.addr(), params)}
	}
	if !encrypted && !isLoopback(c.cfg.Host) {
		return pluginsdk.Errorf("connection %s: refusing to send the password for user %s over an unencrypted connection to %s", c.conn, c.user, c.addr())
	}
	if err := cl.Auth(a); err != nil {
		return c.fail(ctx, "smtp auth failed for user "+c.user, err)
	}
	return nil
}

// loginAuth is the LOGIN mechanism (draft-murchison-sasl-login), which some
// submission servers offer instead of PLAIN.
type loginAuth struct {
	user, password, host string
	step                 int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	if !server.TLS && !isLoopback(server.Name) {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	prompt := strings.ToLower(string(challenge))
	switch {
	case strings.Contains(prompt, "username") || (a.step == 1 && !strings.Contains(prompt, "password")):
		return []byte(a.user), nil
	case strings.Contains(prompt, "password") || a.step == 2:
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", challenge)
}

// fail turns an error of one SMTP step into a typed error: 5xx replies are
// permanent, 4xx replies and network faults retryable, certificate problems
// permanent (retrying cannot fix a certificate).
func (c *Connector) fail(ctx context.Context, what string, err error) *pluginsdk.Error {
	prefix := "connection " + c.conn + ": "
	var te *textproto.Error
	if errors.As(err, &te) {
		e := &pluginsdk.Error{Code: fmt.Sprintf("smtp_%d", te.Code),
			Message: fmt.Sprintf("%s%s: %d %s", prefix, what, te.Code, strings.TrimSpace(te.Msg))}
		e.Retryable = te.Code < 500
		return e
	}
	var (
		unknownCA *x509.UnknownAuthorityError
		hostErr   x509.HostnameError
		invalid   x509.CertificateInvalidError
		verify    *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) || errors.As(err, &verify) {
		return &pluginsdk.Error{Code: "smtp_tls_certificate", Message: fmt.Sprintf(
			"%s%s: the server certificate is not trusted: %v (give the server's CA as ca_cert)", prefix, what, err)}
	}
	if cause := context.Cause(ctx); cause != nil {
		if errors.Is(cause, context.DeadlineExceeded) {
			return &pluginsdk.Error{Code: "smtp_timeout", Retryable: true, Message: fmt.Sprintf("%s%s: timed out: %v", prefix, what, err)}
		}
		return &pluginsdk.Error{Code: "smtp_cancelled", Retryable: true, Message: fmt.Sprintf("%s%s: %v", prefix, what, cause)}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &pluginsdk.Error{Code: "smtp_timeout", Retryable: true, Message: fmt.Sprintf("%s%s: timed out: %v", prefix, what, err)}
	}
	return &pluginsdk.Error{Code: "smtp_network", Retryable: true, Message: fmt.Sprintf("%s%s: %v", prefix, what, err)}
}
