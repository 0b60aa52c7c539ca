package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// checker knows this connector and the builtin webhook, so Load checks the
// sample's connector names and `uses:` actions against the real Spec.
type checker struct{}

func (checker) ConnectorKnown(c string) bool {
	return c == "marketo" || c == "marketo@"+Version || c == "webhook"
}
func (checker) TaskKnown(string) bool { return false }
func (checker) ActionKnown(c, a string) (bool, bool) {
	if !strings.HasPrefix(c, "marketo") {
		return false, false
	}
	_, ok := New().Spec().Action(a)
	return ok, true
}

// loadAndConfigure loads a config file and configures every Marketo
// connection in it with the real connector.
func loadAndConfigure(t *testing.T, path string, env func(string) (string, bool)) *config.Bundle {
	t.Helper()
	b, err := config.Load([]string{path}, config.Options{LookupEnv: env, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(%s): %s", path, config.FormatErrors(err))
	}
	for _, cc := range b.Connections {
		if !strings.HasPrefix(cc.Connector, "marketo") {
			continue
		}
		raw, err := json.Marshal(cc.Config)
		if err != nil {
			t.Fatal(err)
		}
		h := plugintest.NewHost(t)
		auth := pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), TokenURL: cc.Auth.TokenURL, ClientID: cc.Auth.ClientID, ClientSecret: cc.Auth.ClientSecret}
		if err := New().Configure(context.Background(), h.Context(raw, auth)); err != nil {
			t.Errorf("%s: connection %s: %v", path, cc.Name, err)
		}
	}
	return b
}

func TestSampleLoadsAndConfigures(t *testing.T) {
	env := func(name string) (string, bool) { return "value-of-" + name, true }
	b := loadAndConfigure(t, "sample.yaml", env)
	if len(b.Connections) != 2 || len(b.Workflows) != 1 {
		t.Fatalf("loaded %d connections, %d workflows; want 2 and 1", len(b.Connections), len(b.Workflows))
	}
}

// The hub's ready-made config must start with no variable set.
func TestQuickStartConfigLoads(t *testing.T) {
	unset := func(string) (string, bool) { return "", false }
	b := loadAndConfigure(t, "../../configs/marketo.yaml", unset)
	if len(b.Workflows) != 1 || b.Workflows[0].Name != "marketo-add-to-campaign" {
		t.Fatalf("workflows %v", b.Workflows)
	}
}

// The manifest must be valid and name the connector the spec declares.
func TestManifestMatchesSpec(t *testing.T) {
	m, err := registry.ReadManifest(".")
	if err != nil {
		t.Fatal(err)
	}
	spec := New().Spec()
	if m.Name != spec.Name || m.Kind != registry.KindWasm {
		t.Errorf("manifest %s (%s), spec %s", m.Name, m.Kind, spec.Name)
	}
	// The version is declared once, in the Spec: the source manifest leaves
	// it out, and what validation reads from the sources is the Spec's.
	if v, err := registry.SourceVersion("."); m.Version != "" || err != nil || v != spec.Version {
		t.Errorf("manifest version %q, version read from the sources %q (%v), Spec.Version %q", m.Version, v, err, spec.Version)
	}
	if !m.Capabilities.KV {
		t.Error("the manifest must ask for kv: the token and the rate window live there")
	}
}
