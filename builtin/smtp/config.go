package smtp

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/mail"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Defaults of the connection's config block.
const (
	DefaultPort    = 587
	DefaultTimeout = 30 * time.Second
	// MaxTimeout keeps a stuck server from holding a workflow task for long;
	// the engine's retries are the way to wait longer.
	MaxTimeout = 5 * time.Minute
	// implicitTLSPort is SMTPS (RFC 8314): TLS from the first byte.
	implicitTLSPort = 465
)

// Config is an smtp connection's `config:` block.
//
//	host:         SMTP server name (required), e.g. smtp.example.com
//	port:         587 (default); 465 means implicit TLS unless implicit_tls says otherwise
//	starttls:     true (default): upgrade with STARTTLS before anything else is sent, and
//	              fail if the server does not offer it
//	implicit_tls: TLS from the first byte (SMTPS); default true on port 465, else false
//	from:         the sender, "Surveys <surveys@example.com>" (required)
//	reply_to:     where replies go (optional)
//	ca_cert:      PEM of the CA that signed the server's certificate, trusted instead of
//	              the system roots (a private relay); certificate checks are never skipped
//	helo_name:    the name sent in EHLO (default: localhost)
//	timeout:      the whole SMTP exchange of one message (default 30s, at most 5m)
type Config struct {
	Host        string
	Port        int
	StartTLS    bool
	ImplicitTLS bool
	From        *mail.Address
	ReplyTo     *mail.Address
	CACert      *x509.CertPool
	HeloName    string
	Timeout     time.Duration
}

// fileConfig is the config block as written, before it is checked.
type fileConfig struct {
	Host        string        `json:"host"`
	Port        int           `json:"port"`
	StartTLS    *bool         `json:"starttls"`
	ImplicitTLS *bool         `json:"implicit_tls"`
	From        string        `json:"from"`
	ReplyTo     string        `json:"reply_to"`
	CACert      string        `json:"ca_cert"`
	HeloName    string        `json:"helo_name"`
	Timeout     time.Duration `json:"timeout"`

	SkipVerify    any `json:"tls_insecure_skip_verify" refused:"certificate checks are never skipped; give the server's CA as ca_cert"`
	SkipVerifyAlt any `json:"insecure_skip_verify" refused:"certificate checks are never skipped; give the server's CA as ca_cert"`
}

// parseConfig decodes and validates raw, reporting every problem at once.
func parseConfig(raw json.RawMessage) (Config, error) {
	in := fileConfig{Port: DefaultPort, Timeout: DefaultTimeout}
	problems := pluginsdk.DecodeConfig(raw, &in)
	cfg := Config{Port: DefaultPort, StartTLS: true, HeloName: "localhost", Timeout: DefaultTimeout}

	cfg.Host = strings.TrimSpace(in.Host)
	switch {
	case cfg.Host == "":
		problems.At("config.host", "required (the SMTP server, e.g. smtp.example.com)")
	case strings.ContainsAny(cfg.Host, " /@[]") || (strings.Contains(cfg.Host, ":") && net.ParseIP(cfg.Host) == nil):
		problems.At("config.host", "%q is not a host name or IP address; give the port as config.port", cfg.Host)
	}
	if in.Port < 1 || in.Port > 65535 {
		problems.At("config.port", "want a port number from 1 to 65535, got %d", in.Port)
	} else {
		cfg.Port = in.Port
	}
	cfg.ImplicitTLS = cfg.Port == implicitTLSPort
	if in.ImplicitTLS != nil {
		cfg.ImplicitTLS = *in.ImplicitTLS
	}
	cfg.StartTLS = !cfg.ImplicitTLS
	if in.StartTLS != nil {
		cfg.StartTLS = *in.StartTLS
	}
	if cfg.ImplicitTLS && cfg.StartTLS {
		if in.StartTLS != nil {
			problems.At("config.starttls", "implicit_tls already encrypts the connection; set starttls: false or leave it out")
		}
		cfg.StartTLS = false
	}

	if from := strings.TrimSpace(in.From); from == "" {
		problems.At("config.from", "required (the sender, e.g. \"Surveys <surveys@example.com>\")")
	} else if a, err := mail.ParseAddress(from); err != nil {
		problems.At("config.from", "%q is not an email address: %v", from, err)
	} else {
		cfg.From = a
	}
	if rt := strings.TrimSpace(in.ReplyTo); rt != "" {
		if a, err := mail.ParseAddress(rt); err != nil {
			problems.At("config.reply_to", "%q is not an email address: %v", rt, err)
		} else {
			cfg.ReplyTo = a
		}
	}
	if ca := strings.TrimSpace(in.CACert); ca != "" {
		pool, err := parseCA(ca)
		problems.Check("config.ca_cert", err)
		cfg.CACert = pool
	}
	if h := strings.TrimSpace(in.HeloName); h != "" {
		if strings.ContainsAny(h, " \r\n\t") {
			problems.At("config.helo_name", "%q contains white space", h)
		}
		cfg.HeloName = h
	}
	if err := pluginsdk.Duration(in.Timeout).Positive(MaxTimeout); err != nil {
		problems.Check("config.timeout", err)
	} else {
		cfg.Timeout = in.Timeout
	}
	return cfg, problems.Err()
}

// parseCA reads one or more PEM certificates into a pool.
func parseCA(s string) (*x509.CertPool, error) {
	rest := []byte(s)
	pool := x509.NewCertPool()
	n := 0
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q: want CERTIFICATE", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("no PEM certificate found; want the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----")
	}
	return pool, nil
}
