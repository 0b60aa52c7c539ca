package smtp

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
	"github.com/junctionhub/junction/pluginsdk"
)

// configure returns a connector configured for srv with the given extra
// config keys and auth.
func configure(t *testing.T, srv *smtptest.Server, extra map[string]any, auth pluginsdk.Auth) *Connector {
	t.Helper()
	cfg := map[string]any{
		"host": srv.Host, "port": srv.Port, "from": "Surveys <surveys@example.com>",
		"reply_to": "help@example.com", "ca_cert": srv.CAPEM, "timeout": "10s",
	}
	for k, v := range extra {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = v
		}
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "mail", Config: raw, Auth: auth}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return c
}

func basic(user, pass string) pluginsdk.Auth {
	return pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: user, Password: pass}
}

func sendEmail(t *testing.T, c *Connector, input string) (*Output, error) {
	t.Helper()
	res, err := c.Perform(context.Background(), &pluginsdk.PerformRequest{
		Action: ActionSendEmail, Input: json.RawMessage(input), IdempotencyKey: "run-1/invite", Attempt: 1,
	})
	if err != nil {
		return nil, err
	}
	var out Output
	if err := json.Unmarshal(res.Output, &out); err != nil {
		t.Fatalf("output %s: %v", res.Output, err)
	}
	return &out, nil
}

const invite = `{"to": "Ann Lee <ann@example.com>", "subject": "Com'è andata, Ann?",
	"text": "Hi Ann,\nplease rate your visit: https://surveys.example.com/jfe/form/SV_demo?jt=abc\n",
	"html": "<p>Hi Ann,<br>please rate your visit: <a href=\"https://surveys.example.com/jfe/form/SV_demo?jt=abc\">https://surveys.example.com/jfe/form/SV_demo?jt=abc</a></p>",
	"list_unsubscribe": ["mailto:unsubscribe@example.com?subject=CID_1", "https://example.com/unsubscribe?c=CID_1"],
	"headers": {"X-Campaign": "SV_demo"}}`

func TestSendOverSTARTTLSWithAuth(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.Options{Username: "surveys", Password: "s3cret", Mechanisms: []string{mech}})
			c := configure(t, srv, nil, basic("surveys", "s3cret"))
			out, err := sendEmail(t, c, invite)
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages, want 1", len(msgs))
			}
			m := msgs[0]
			if !m.TLS || m.User != "surveys" || m.From != "surveys@example.com" || strings.Join(m.To, ",") != "ann@example.com" {
				t.Errorf("session: tls=%v user=%q from=%q to=%v", m.TLS, m.User, m.From, m.To)
			}
			p, err := smtptest.Parse(m.Data)
			if err != nil {
				t.Fatalf("parse %s: %v", m.Data, err)
			}
			link := "https://surveys.example.com/jfe/form/SV_demo?jt=abc"
			checks := []struct{ what, got, want string }{
				{"content type", p.ContentType, "multipart/alternative"},
				{"From", p.Header.Get("From"), `"Surveys" <surveys@example.com>`},
				{"Reply-To", p.Header.Get("Reply-To"), "<help@example.com>"},
				{"To", p.Header.Get("To"), `"Ann Lee" <ann@example.com>`},
				{"Subject", p.Subject(), "Com'è andata, Ann?"},
				{"Message-ID", p.Header.Get("Message-Id"), out.MessageID},
				{"List-Unsubscribe", p.Header.Get("List-Unsubscribe"), "<mailto:unsubscribe@example.com?subject=CID_1>, <https://example.com/unsubscribe?c=CID_1>"},
				{"List-Unsubscribe-Post", p.Header.Get("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click"},
				{"X-Campaign", p.Header.Get("X-Campaign"), "SV_demo"},
				{"MIME-Version", p.Header.Get("Mime-Version"), "1.0"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			if p.Parts != 2 || !strings.Contains(p.Text, link) || !strings.Contains(p.HTML, `href="`+link+`"`) {
				t.Errorf("parts=%d text=%q html=%q", p.Parts, p.Text, p.HTML)
			}
			if _, err := p.Header.Date(); err != nil {
				t.Errorf("Date: %v", err)
			}
			if !strings.HasSuffix(out.MessageID, "@example.com>") || strings.Join(out.To, ",") != "ann@example.com" {
				t.Errorf("output %+v", out)
			}
		})
	}
}

func TestMessageIDFollowsTheIdempotencyKey(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{})
	c := configure(t, srv, nil, pluginsdk.Auth{})
	send := func(key string) string {
		res, err := c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: ActionSendEmail, IdempotencyKey: key,
			Input: json.RawMessage(`{"to": "a@example.com", "subject": "s", "text": "t"}`)})
		if err != nil {
			t.Fatal(err)
		}
		var out Output
		_ = json.Unmarshal(res.Output, &out)
		return out.MessageID
	}
	a, b, other := send("run-1/invite"), send("run-1/invite"), send("run-2/invite")
	if a != b || a == other {
		t.Errorf("Message-IDs %s %s %s: want the first two equal and the third different", a, b, other)
	}
	p, _ := smtptest.Parse(srv.Messages()[0].Data)
	if p.Parts != 1 || p.ContentType != "text/plain" || strings.TrimRight(p.Text, "\r\n") != "t" {
		t.Errorf("single-part message: %+v", p)
	}
}

func TestSendErrors(t *testing.T) {
	tests := []struct {
		name      string
		opts      smtptest.Options
		config    map[string]any
		auth      pluginsdk.Auth
		input     string
		want      string // in the error message
		retryable bool
	}{
		{name: "wrong password", opts: smtptest.Options{Username: "surveys", Password: "s3cret"}, auth: basic("surveys", "wrong"),
			want: "connection mail: smtp auth failed for user surveys: 535 5.7.8 Authentication failed"},
		{name: "rejected recipient", opts: smtptest.Options{RejectRecipients: []string{"nobody@example.com"}},
			input: `{"to": "nobody@example.com", "subject": "s", "text": "t"}`,
			want:  "connection mail: smtp server rejected recipient nobody@example.com: 550 5.1.1 Mailbox nobody@example.com does not exist"},
		{name: "deferred recipient", opts: smtptest.Options{DeferRecipients: []string{"busy@example.com"}},
			input: `{"to": "busy@example.com", "subject": "s", "text": "t"}`,
			want:  "smtp server rejected recipient busy@example.com: 451 4.3.0 Try again later", retryable: true},
		{name: "untrusted certificate", config: map[string]any{"ca_cert": nil},
			want: "smtp STARTTLS with 127.0.0.1:"},
		{name: "no STARTTLS", opts: smtptest.Options{NoTLS: true}, config: map[string]any{"ca_cert": nil},
			want: "does not offer STARTTLS"},
		{name: "auth without AUTH offered", opts: smtptest.Options{}, auth: basic("surveys", "s3cret"),
			want: "does not offer AUTH"},
		{name: "bad input", input: `{"to": "not an address", "subject": "s", "text": "t"}`,
			want: `send_email input: to: "not an address" is not an email address`},
		{name: "header injection", input: `{"to": "a@example.com", "subject": "s\r\nBcc: x@example.com", "text": "t"}`,
			want: "subject contains a line break"},
		{name: "reserved header", input: `{"to": "a@example.com", "subject": "s", "text": "t", "headers": {"bcc": "x@example.com"}}`,
			want: "headers: Bcc is set by the connector"},
		{name: "no body", input: `{"to": "a@example.com", "subject": "s"}`, want: "text or html is required"},
		{name: "bad unsubscribe", input: `{"to": "a@example.com", "subject": "s", "text": "t", "list_unsubscribe": "javascript:alert(1)"}`,
			want: "want a mailto: or https: URI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts)
			c := configure(t, srv, tt.config, tt.auth)
			input := tt.input
			if input == "" {
				input = `{"to": "ann@example.com", "subject": "s", "text": "t"}`
			}
			_, err := sendEmail(t, c, input)
			var pe *pluginsdk.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want *pluginsdk.Error", err, err)
			}
			if !strings.Contains(pe.Message, tt.want) || pe.Retryable != tt.retryable {
				t.Errorf("error %q retryable=%v, want %q retryable=%v", pe.Message, pe.Retryable, tt.want, tt.retryable)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("server accepted %d messages", n)
			}
		})
	}
}

func TestNetworkFaultsAreRetryable(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	c := configure(t, &smtptest.Server{Host: "127.0.0.1", Port: port}, map[string]any{"ca_cert": nil}, pluginsdk.Auth{})
	_, err = sendEmail(t, c, `{"to": "a@example.com", "subject": "s", "text": "t"}`)
	if !pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), "connect to 127.0.0.1:") {
		t.Errorf("refused connection: %v, want a retryable connect error", err)
	}

	// A server that accepts and never greets: the task's deadline ends it.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := silent.Accept()
		if err == nil {
			accepted <- conn
		}
		close(accepted)
	}()
	t.Cleanup(func() {
		silent.Close()
		if conn, ok := <-accepted; ok {
			conn.Close()
		}
	})
	c = configure(t, &smtptest.Server{Host: "127.0.0.1", Port: silent.Addr().(*net.TCPAddr).Port}, map[string]any{"ca_cert": nil}, pluginsdk.Auth{})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err = c.Perform(ctx, &pluginsdk.PerformRequest{Action: ActionSendEmail, Input: json.RawMessage(`{"to": "a@example.com", "subject": "s", "text": "t"}`)})
	if !pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("silent server: %v, want a retryable time-out", err)
	}
}
