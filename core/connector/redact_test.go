package connector

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/pluginsdk"
)

func loadConnection(t *testing.T, yamlText string, env map[string]string) *config.Connection {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.yaml"), []byte(yamlText), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := config.Load([]string{dir}, config.Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	return b.Connections[0]
}

func TestRedactedConfig(t *testing.T) {
	c := loadConnection(t, `apiVersion: junction/v1
kind: Connection
metadata: {name: crm-out}
spec:
  connector: webhook
  config:
    url: "${CRM_URL}"
    api_key: plain-in-file
    signing_secret: "${SIGNING}"
    tenant: "${TENANT}"
    headers:
      X-API-Key: "${KEY}"
      Authorization: Bearer written-in-the-file
      X-Partner: "${PARTNER_ID}"
      X-Source: junction
      Cookie: sid=abc
    auth_extra: {client_token: t0k, region: eu}
    scopes: [a, b]
`, map[string]string{"CRM_URL": "https://crm.example.com/in", "SIGNING": "s3", "TENANT": "acme", "KEY": "k-123", "PARTNER_ID": "p-9"})
	spec := pluginsdk.Spec{Config: []pluginsdk.Param{{Name: "tenant", Type: pluginsdk.TypeSecret}}}
	got := RedactedConfig(c, spec)
	b, _ := json.Marshal(got)
	for _, leaked := range []string{"k-123", "written-in-the-file", "p-9", "sid=abc", "s3", "plain-in-file", "acme", "t0k"} {
		if strings.Contains(string(b), leaked) {
			t.Errorf("%q is shown: %s", leaked, b)
		}
	}
	for _, kept := range []string{"https://crm.example.com/in", `"X-Source":"junction"`, `"region":"eu"`, `"scopes":["a","b"]`} {
		if !strings.Contains(string(b), kept) {
			t.Errorf("%s is not shown: %s", kept, b)
		}
	}
	if c.Config["headers"].(map[string]any)["X-API-Key"] != "k-123" {
		t.Error("RedactedConfig changed the connection's own config")
	}
}

func TestLooksSecret(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"X-API-Key", true}, {"Authorization", true}, {"Proxy-Authorization", true}, {"X-Auth-Token", true},
		{"Cookie", true}, {"client_secret", true}, {"Password", true}, {"X-Hub-Signature", true},
		{"X-Source", false}, {"Content-Type", false}, {"url", false}, {"timeout", false},
	}
	for _, tt := range tests {
		if got := LooksSecret(tt.key); got != tt.want {
			t.Errorf("LooksSecret(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}
