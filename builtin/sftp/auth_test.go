package sftp

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/junctionhub/junction/pluginsdk"
)

// otherKey is a host key the server does not have.
func otherKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestConnect: every way of verifying the host and logging in, against the
// real server; a failure must say exactly what is wrong.
func TestConnect(t *testing.T) {
	srv := startServer(t)
	key := srv.AddKeyUser(t, "keyuser", "")
	encKey := srv.AddKeyUser(t, "encuser", "open sesame")
	wrongKey := otherKey(t)
	hostPort := fmt.Sprintf("[%s]:%d", srv.Host(), srv.Port())
	khFile := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(khFile, []byte("# servers\n"+srv.KnownHostsLine()), 0o600); err != nil {
		t.Fatal(err)
	}
	noHostKey := func(m map[string]any) { delete(m, "host_key_fingerprint") }
	withKnownHosts := func(kh string) func(m map[string]any) {
		return func(m map[string]any) { noHostKey(m); m["known_hosts"] = kh }
	}
	tests := []struct {
		name string
		edit func(m map[string]any)
		auth pluginsdk.Auth
		want string // "" for success, else the whole error
	}{
		{name: "fingerprint and password", auth: basicAuth},
		{name: "fingerprint without SHA256: prefix", auth: basicAuth,
			edit: func(m map[string]any) { m["host_key_fingerprint"] = strings.TrimPrefix(srv.Fingerprint(), "SHA256:") }},
		{name: "known_hosts inline", auth: basicAuth, edit: withKnownHosts(srv.KnownHostsLine())},
		{name: "known_hosts hashed and wildcard", auth: basicAuth, edit: withKnownHosts(
			knownhosts.Line([]string{"other.example.com"}, wrongKey) + "\n" +
				knownhosts.HashHostname(hostPort) + " " + string(ssh.MarshalAuthorizedKey(srv.HostKey())))},
		{name: "known_hosts wildcard", auth: basicAuth, edit: withKnownHosts(
			"[127.0.0.*]:* " + string(ssh.MarshalAuthorizedKey(srv.HostKey())))},
		{name: "known_hosts file", auth: basicAuth, edit: withKnownHosts(khFile)},
		{name: "private key", edit: func(m map[string]any) { m["username"] = "keyuser"; m["private_key"] = key }},
		{name: "encrypted private key", edit: func(m map[string]any) {
			m["username"] = "encuser"
			m["private_key"] = encKey
			m["passphrase"] = "open sesame"
		}},
		{name: "fingerprint mismatch", auth: basicAuth,
			edit: func(m map[string]any) { m["host_key_fingerprint"] = ssh.FingerprintSHA256(wrongKey) },
			want: fmt.Sprintf("sftp host %s: host key mismatch: server offered %s, expected %s", srv.Addr, srv.Fingerprint(), ssh.FingerprintSHA256(wrongKey))},
		{name: "known_hosts mismatch", auth: basicAuth, edit: withKnownHosts(hostPort + " " + string(ssh.MarshalAuthorizedKey(wrongKey))),
			want: fmt.Sprintf("sftp host %s: host key mismatch: server offered %s, expected %s", srv.Addr, srv.Fingerprint(), ssh.FingerprintSHA256(wrongKey))},
		{name: "known_hosts without the host", auth: basicAuth, edit: withKnownHosts(knownhosts.Line([]string{"other.example.com"}, wrongKey)),
			want: fmt.Sprintf("sftp host %s: no entry for %s in config.known_hosts (server offered ssh-ed25519 %s; check it, then add the line `ssh-keyscan -p PORT HOST` prints)",
				srv.Addr, hostPort, srv.Fingerprint())},
		{name: "known_hosts negated", auth: basicAuth, edit: withKnownHosts("[127.0.0.*]:*,!" + hostPort + " " + string(ssh.MarshalAuthorizedKey(srv.HostKey()))),
			want: "no entry for " + hostPort},
		{name: "revoked", auth: basicAuth, edit: withKnownHosts(srv.KnownHostsLine() + "@revoked * " + string(ssh.MarshalAuthorizedKey(srv.HostKey()))),
			want: fmt.Sprintf("sftp host %s: host key %s is marked @revoked in config.known_hosts", srv.Addr, srv.Fingerprint())},
		{name: "known_hosts file missing", auth: basicAuth, edit: withKnownHosts(khFile + ".missing"),
			want: "read known_hosts: open " + khFile + ".missing: no such file or directory"},
		{name: "wrong password", auth: pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testUser, Password: "wrong"},
			want: fmt.Sprintf(`sftp host %s: authentication failed for user "bob": the server refused the password`, srv.Addr)},
		{name: "unknown user key", edit: func(m map[string]any) { m["username"] = "nobody"; m["private_key"] = key },
			want: `authentication failed for user "nobody": the server refused the private key SHA256:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := connect(t, baseConfig(srv, tt.edit), tt.auth)
			err := c.do(context.Background(), func(s *session) error {
				_, err := s.sftp.ReadDir("/inbound")
				return err
			})
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("connect: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("connected, want %q", tt.want)
			case !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error\n%s\nwant\n%s", err, tt.want)
			case pluginsdk.IsRetryable(err):
				t.Errorf("error %q is retryable; a retry cannot fix it", err)
			}
		})
	}
}

func TestConfigureErrors(t *testing.T) {
	srv := startServer(t)
	key := srv.AddKeyUser(t, "keyuser", "")
	encKey := srv.AddKeyUser(t, "encuser", "pw")
	tests := []struct {
		name string
		edit func(m map[string]any)
		auth pluginsdk.Auth
		want []string
	}{
		{"no host key check", func(m map[string]any) { delete(m, "host_key_fingerprint") }, basicAuth,
			[]string{"config.known_hosts or config.host_key_fingerprint is required"}},
		{"both host key checks", func(m map[string]any) { m["known_hosts"] = "/etc/ssh/known_hosts" }, basicAuth,
			[]string{"set known_hosts or host_key_fingerprint, not both"}},
		{"bad fingerprint", func(m map[string]any) { m["host_key_fingerprint"] = "MD5:aa:bb" }, basicAuth,
			[]string{"config.host_key_fingerprint"}},
		{"bad inline known_hosts", func(m map[string]any) {
			delete(m, "host_key_fingerprint")
			m["known_hosts"] = "host ssh-ed25519 notbase64"
		}, basicAuth,
			[]string{"config.known_hosts"}},
		{"no credentials", nil, pluginsdk.Auth{}, []string{"config.username", "no credentials"}},
		{"encrypted key without passphrase", func(m map[string]any) { m["username"] = "u"; m["private_key"] = encKey }, pluginsdk.Auth{},
			[]string{"config.private_key: the key is encrypted; set config.passphrase"}},
		{"api_key auth", nil, pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "x"}, []string{`auth.type "api_key" is not supported`}},
		{"usernames differ", func(m map[string]any) { m["username"] = "alice"; m["private_key"] = key }, basicAuth,
			[]string{`config.username "alice" and auth.username "bob" differ`}},
		{"host with port", func(m map[string]any) { m["host"] = "sftp.example.com:22"; m["port"] = 70000 }, basicAuth,
			[]string{"config.host", "config.port 70000"}},
		{"bad durations", func(m map[string]any) { m["timeout"] = "soon"; m["min_age"] = -5 }, basicAuth,
			[]string{"config.timeout", "config.min_age"}},
		{"unknown key", func(m map[string]any) { m["hostname"] = "x" }, basicAuth, []string{"config.hostname: unknown key; did you mean host?"}},
		{"bad entities", func(m map[string]any) {
			m["entities"] = []any{
				map[string]any{"name": "Profiles", "path": "inbound", "format": "xml", "glob": "a/*.csv"},
				map[string]any{"name": "p", "path": "/in", "archive_dir": "/in", "delimiter": ";;"},
				map[string]any{"name": "p", "path": "/in2", "format": "ndjson", "delimiter": ";"},
			}
		}, basicAuth, []string{`entities[0].name "Profiles"`, "entities[0].path", "entities[0].format", "entities[0].glob",
			"entities[1].archive_dir is the import path", "entities[1].delimiter", `entities[2].name "p" is used twice`,
			"entities[2].delimiter: only csv files"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Configure(context.Background(), &pluginsdk.Context{Connection: "x", Config: baseConfig(srv, tt.edit), Auth: tt.auth})
			if err == nil {
				t.Fatal("Configure succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
