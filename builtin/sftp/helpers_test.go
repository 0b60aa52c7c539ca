package sftp

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/sftp/sftptest"
	"github.com/junctionhub/junction/pluginsdk"
)

const (
	testUser     = "bob"
	testPassword = "s3cret"
)

// startServer runs an SFTP server with the test user and an /inbound and
// /outbound directory.
func startServer(t *testing.T) *sftptest.Server {
	t.Helper()
	srv := sftptest.Start(t)
	srv.AddUser(testUser, testPassword)
	for _, d := range []string{"inbound", "outbound"} {
		if err := os.MkdirAll(filepath.Join(srv.Root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return srv
}

// baseConfig is a config for srv, pinned to its host key, importing *.csv
// from /inbound as entity "profiles"; change it with edit.
func baseConfig(srv *sftptest.Server, edit func(m map[string]any)) json.RawMessage {
	m := map[string]any{
		"host":                 srv.Host(),
		"port":                 srv.Port(),
		"host_key_fingerprint": srv.Fingerprint(),
		"min_age":              "0s",
		"timeout":              "5s",
		"entities": []any{map[string]any{
			"name": "profiles", "path": "/inbound", "glob": "*.csv", "format": "csv",
		}},
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return b
}

// entityEdit changes the first entity of a config.
func entityEdit(f func(e map[string]any)) func(m map[string]any) {
	return func(m map[string]any) { f(m["entities"].([]any)[0].(map[string]any)) }
}

var basicAuth = pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testUser, Password: testPassword}

// connect returns a configured connector, closed when the test ends.
func connect(t *testing.T, cfg json.RawMessage, auth pluginsdk.Auth) *Connector {
	t.Helper()
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "sftp-in", Config: cfg, Auth: auth}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// writeFile writes a file under the server's root, modified at mtime
// (zero: an hour ago, old enough for min_age).
func writeFile(t *testing.T, srv *sftptest.Server, p, content string, mtime time.Time) {
	t.Helper()
	local := srv.Local(p)
	if err := os.WriteFile(local, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if mtime.IsZero() {
		mtime = time.Now().Add(-time.Hour)
	}
	if err := os.Chtimes(local, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func exists(srv *sftptest.Server, p string) bool {
	_, err := os.Stat(srv.Local(p))
	return err == nil
}
