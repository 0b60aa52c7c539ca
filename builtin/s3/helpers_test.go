package s3

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/junctionhub/junction/builtin/s3/s3test"
	"github.com/junctionhub/junction/pluginsdk"
)

const testBucket = "inbox"

var keyAuth = pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "AKIDTEST", Password: "secret-test-key"}

// baseConfig is a config for srv importing inbound/*.csv as "profiles";
// change it with edit.
func baseConfig(srv *s3test.Server, edit func(m map[string]any)) json.RawMessage {
	m := map[string]any{
		"bucket": testBucket, "endpoint": srv.URL, "region": "eu-west-1", "path_style": true, "allow_private": true,
		"timeout":  "5s",
		"entities": []any{map[string]any{"name": "profiles", "prefix": "inbound/", "glob": "*.csv", "format": "csv"}},
	}
	if edit != nil {
		edit(m)
	}
	b, _ := json.Marshal(m)
	return b
}

func entityEdit(f func(e map[string]any)) func(m map[string]any) {
	return func(m map[string]any) { f(m["entities"].([]any)[0].(map[string]any)) }
}

// connect returns a configured connector, closed when the test ends.
func connect(t testing.TB, cfg json.RawMessage) *Connector {
	t.Helper()
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "s3-in", Config: cfg, Auth: keyAuth}); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
