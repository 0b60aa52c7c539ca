package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
)

// sampleEnv gives every ${VAR} in sample.yaml a value, as a deployment would.
func sampleEnv(name string) (string, bool) {
	return map[string]string{
		"ORDERS_API_KEY":        "orders-key",
		"CRM_SIGNING_SECRET":    "crm-secret",
		"TICKETS_CLIENT_ID":     "tickets-client",
		"TICKETS_CLIENT_SECRET": "tickets-secret",
	}[name], strings.HasSuffix(name, "_KEY") || strings.HasSuffix(name, "_SECRET") || strings.HasSuffix(name, "_ID")
}

func TestSampleIsYAMLWithDocumentedKinds(t *testing.T) {
	dec := yaml.NewDecoder(bytes.NewReader(SampleConfig()))
	var got []string
	for {
		var doc struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct{ Name string }
			Spec       map[string]any
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("sample.yaml: %v", err)
		}
		if doc.APIVersion != "junction/v1" {
			t.Errorf("%s %s: apiVersion %q", doc.Kind, doc.Metadata.Name, doc.APIVersion)
		}
		got = append(got, doc.Kind+"/"+doc.Metadata.Name)
	}
	want := "Connection/orders-in Connection/crm-out Connection/tickets-out Workflow/orders-to-crm"
	if strings.Join(got, " ") != want {
		t.Errorf("documents %v, want %s", got, want)
	}
}

// checker knows exactly this connector, so Load checks the sample's
// connector names and `uses:` actions against the real Spec.
type checker struct{}

func (checker) ConnectorKnown(c string) bool { return c == "webhook" }
func (checker) TaskKnown(string) bool        { return false }
func (checker) ActionKnown(c, a string) (bool, bool) {
	_, ok := spec().Action(a)
	return c == "webhook" && ok, true
}

func TestSampleLoadsAndConfigures(t *testing.T) {
	b, err := config.Load([]string{"sample.yaml"}, config.Options{LookupEnv: sampleEnv, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	if len(b.Connections) != 3 || len(b.Workflows) != 1 {
		t.Fatalf("loaded %d connections, %d workflows; want 3 and 1", len(b.Connections), len(b.Workflows))
	}
	for _, cc := range b.Connections {
		raw, err := json.Marshal(cc.Config)
		if err != nil {
			t.Fatal(err)
		}
		pc := &pluginsdk.Context{Connection: cc.Name, Config: raw,
			Auth: pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Secret: cc.Auth.Secret,
				TokenURL: cc.Auth.TokenURL, ClientID: cc.Auth.ClientID, ClientSecret: cc.Auth.ClientSecret, Scopes: cc.Auth.Scopes},
			HTTP: host.NewHTTPClient(host.HTTPOptions{Connection: cc.Name})}
		if err := New().Configure(context.Background(), pc); err != nil {
			t.Errorf("connection %s from sample.yaml: %v", cc.Name, err)
		}
	}
}
