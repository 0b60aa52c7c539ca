package smtp

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/mail"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/builtin/internal/duration"
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

// configKeys are the keys Config accepts, in documentation order.
var configKeys = []string{"host", "port", "starttls", "implicit_tls", "from", "reply_to", "ca_cert", "helo_name", "timeout"}

// parseConfig decodes and validates raw, reporting every problem at once.
func parseConfig(raw json.RawMessage) (Config, error) {
	cfg := Config{Port: DefaultPort, StartTLS: true, HeloName: "localhost", Timeout: DefaultTimeout}
	var m map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &m); err != nil {
			return cfg, fmt.Errorf("config: want an object with %s: %v", strings.Join(configKeys, ", "), err)
		}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "tls_insecure_skip_verify" || k == "insecure_skip_verify":
			bad("config.%s: not supported: certificate checks are never skipped; give the server's CA as ca_cert", k)
		case !slices.Contains(configKeys, k):
			bad("config.%s: unknown key; want %s", k, strings.Join(configKeys, ", "))
		}
	}

	str := func(key string) string {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			return ""
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			bad("config.%s: want a string, got %s", key, v)
		}
		return strings.TrimSpace(s)
	}
	boolean := func(key string, def bool) bool {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			return def
		}
		var b bool
		if json.Unmarshal(v, &b) == nil {
			return b
		}
		var s string
		if json.Unmarshal(v, &s) == nil {
			if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
				return b
			}
		}
		bad("config.%s: want true or false, got %s", key, v)
		return def
	}

	cfg.Host = str("host")
	switch {
	case cfg.Host == "":
		bad("config.host: required (the SMTP server, e.g. smtp.example.com)")
	case strings.ContainsAny(cfg.Host, " /@[]") || (strings.Contains(cfg.Host, ":") && net.ParseIP(cfg.Host) == nil):
		bad("config.host: %q is not a host name or IP address; give the port as config.port", cfg.Host)
	}
	if v, ok := m["port"]; ok && string(v) != "null" {
		var n json.Number
		if err := json.Unmarshal(v, &n); err != nil {
			var s string
			if json.Unmarshal(v, &s) == nil {
				n = json.Number(strings.TrimSpace(s))
			}
		}
		p, err := strconv.Atoi(n.String())
		if err != nil || p < 1 || p > 65535 {
			bad("config.port: want a port number from 1 to 65535, got %s", v)
		} else {
			cfg.Port = p
		}
	}
	cfg.ImplicitTLS = boolean("implicit_tls", cfg.Port == implicitTLSPort)
	cfg.StartTLS = boolean("starttls", !cfg.ImplicitTLS)
	if cfg.ImplicitTLS && cfg.StartTLS {
		if _, set := m["starttls"]; set {
			bad("config.starttls: implicit_tls already encrypts the connection; set starttls: false or leave it out")
		}
		cfg.StartTLS = false
	}

	if from := str("from"); from == "" {
		bad("config.from: required (the sender, e.g. \"Surveys <surveys@example.com>\")")
	} else if a, err := mail.ParseAddress(from); err != nil {
		bad("config.from: %q is not an email address: %v", from, err)
	} else {
		cfg.From = a
	}
	if rt := str("reply_to"); rt != "" {
		if a, err := mail.ParseAddress(rt); err != nil {
			bad("config.reply_to: %q is not an email address: %v", rt, err)
		} else {
			cfg.ReplyTo = a
		}
	}
	if ca := str("ca_cert"); ca != "" {
		pool, err := parseCA(ca)
		if err != nil {
			bad("config.ca_cert: %v", err)
		}
		cfg.CACert = pool
	}
	if h := str("helo_name"); h != "" {
		if strings.ContainsAny(h, " \r\n\t") {
			bad("config.helo_name: %q contains white space", h)
		}
		cfg.HeloName = h
	}
	if v, ok := m["timeout"]; ok && string(v) != "null" {
		if d, err := duration.Bounded(v, MaxTimeout); err != nil {
			bad("config.timeout: %v", err)
		} else {
			cfg.Timeout = d
		}
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return cfg, nil
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
