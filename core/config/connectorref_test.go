package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestConnectorRefForms: a connection's connector may name a plugin's
// version and pin one of its forms; a wrong form or a form without its
// version is an error at the value's file:line:col.
func TestConnectorRefForms(t *testing.T) {
	tests := []struct {
		connector string
		want      string // "" loads
	}{
		{connector: "slack"},
		{connector: "slack@0.1.0"},
		{connector: "slack@0.1.0/wasm"},
		{connector: "slack@1.0.0-rc.1/goplugin"},
		{connector: "slack@0.1.0/native", want: `:4:19: spec.connector: "slack@0.1.0/native": form "native": want wasm or goplugin`},
		{connector: "slack/wasm", want: `:4:19: spec.connector: "slack/wasm": a form is pinned with its version, e.g. slack@1.0.0/wasm`},
		{connector: "slack@/wasm", want: `:4:19: spec.connector: "slack@/wasm": empty version after @`},
		{connector: "Slack@0.1.0", want: `:4:19: spec.connector: want a builtin or plugin name, name@version, or name@version/wasm or name@version/goplugin to pin a plugin's form`},
	}
	for _, tt := range tests {
		t.Run(tt.connector, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "c.yaml")
			writeFile(t, file, "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: out}\nspec: {connector: \""+tt.connector+"\"}\n")
			b, err := Load([]string{file}, Options{LookupEnv: lookup})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("%s", FormatErrors(err))
				}
				if got := b.Connections[0].Connector; got != tt.connector {
					t.Errorf("connector = %q", got)
				}
				return
			}
			if got := FormatErrors(err); !strings.Contains(got, file+tt.want) {
				t.Errorf("got\n%s\nwant\n%s%s", got, file, tt.want)
			}
		})
	}
}
