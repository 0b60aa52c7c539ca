package smtp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name, raw string
		check     func(Config) bool
		err       string
	}{
		{"defaults", `{"host": "smtp.example.com", "from": "Surveys <s@example.com>"}`, func(c Config) bool {
			return c.Port == 587 && c.StartTLS && !c.ImplicitTLS && c.HeloName == "localhost" && c.Timeout == DefaultTimeout &&
				c.From.Name == "Surveys" && c.From.Address == "s@example.com" && c.ReplyTo == nil && c.CACert == nil
		}, ""},
		{"port 465 is implicit TLS", `{"host": "smtp.example.com", "port": "465", "from": "s@example.com"}`, func(c Config) bool {
			return c.Port == 465 && c.ImplicitTLS && !c.StartTLS
		}, ""},
		{"plain relay", `{"host": "10.0.0.5", "port": 25, "starttls": "false", "from": "s@example.com", "timeout": 5}`, func(c Config) bool {
			return !c.StartTLS && !c.ImplicitTLS && c.Timeout == 5*time.Second
		}, ""},
		{"IPv6 host", `{"host": "::1", "from": "s@example.com"}`, func(c Config) bool { return c.Host == "::1" }, ""},
		{"both TLS modes", `{"host": "h", "from": "s@example.com", "implicit_tls": true, "starttls": true}`, nil, "config.starttls: implicit_tls already encrypts"},
		{"host with port", `{"host": "smtp.example.com:587", "from": "s@example.com"}`, nil, "give the port as config.port"},
		{"skip verify", `{"host": "h", "from": "s@example.com", "tls_insecure_skip_verify": true}`, nil, "certificate checks are never skipped"},
		{"everything missing", `{}`, nil, "config.host: required (the SMTP server, e.g. smtp.example.com); config.from: required"},
		{"not an object", `[1]`, nil, "config: want an object"},
		{"timeout too long", `{"host": "h", "from": "s@example.com", "timeout": "1h"}`, nil, "config.timeout: 1h0m0s, want more than 0 and at most 5m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(json.RawMessage(tt.raw))
			switch {
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want %q", err, tt.err)
			case tt.err == "" && err != nil:
				t.Errorf("parseConfig: %v", err)
			case tt.err == "" && !tt.check(c):
				t.Errorf("config %+v", c)
			}
		})
	}
}

func TestCACertFromTheServer(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{})
	raw, _ := json.Marshal(map[string]any{"host": "h", "from": "s@example.com", "ca_cert": srv.CAPEM})
	if c, err := parseConfig(raw); err != nil || c.CACert == nil {
		t.Errorf("ca_cert: %v", err)
	}
	raw, _ = json.Marshal(map[string]any{"host": "h", "from": "s@example.com", "ca_cert": "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n"})
	if _, err := parseConfig(raw); err == nil || !strings.Contains(err.Error(), `config.ca_cert: PEM block "RSA PRIVATE KEY": want CERTIFICATE`) {
		t.Errorf("a key as ca_cert: %v", err)
	}
}
