package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// CONTRACT.md writes `auth: {type: api_key, secret: ${KEY}}` unquoted inside a
// flow mapping; it must load, and errors after it must keep exact columns.
func TestUnquotedVarInFlowMapping(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	src := "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: c}\nspec:\n  connector: webhook\n  auth: {type: api_key, secret: ${KEY}}\n  config: {url: \"${BASE:-http://x}/in\", n: ${N}}\n"
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"KEY": "s3cret}{", "N": "3"}
	b, err := Load([]string{path}, Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	c := b.Connections[0]
	if c.Auth.Secret != "s3cret}{" || c.Config["url"] != "http://x/in" || c.Config["n"] != 3 {
		t.Errorf("auth %+v config %+v", c.Auth, c.Config)
	}
	delete(env, "N")
	_, err = Load([]string{path}, Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err == nil || !strings.Contains(err.Error(), path+":7:44: ") {
		t.Errorf("unset ${N} error = %v, want it at %s:7:44", err, path)
	}
}

// KeepUnset (junction validate) keeps an unset variable without a default
// as written, but still applies a default.
func TestKeepUnset(t *testing.T) {
	look := func(string) (string, bool) { return "", false }
	got, missing, err := interpolate("${A:-active}/${B}", look, true)
	if err != nil || len(missing) != 0 || got != "active/${B}" {
		t.Errorf("got %q %v %v, want %q", got, missing, err, "active/${B}")
	}
}
