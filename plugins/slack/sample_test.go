package main

import (
	"context"
	"encoding/json"
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
	return c == "webhook" || c == "slack" || c == "slack@0.1.0"
}
func (checker) TaskKnown(string) bool { return false }
func (checker) ActionKnown(c, a string) (bool, bool) {
	if c == "webhook" {
		return false, false
	}
	_, ok := New().Spec().Action(a)
	return ok, true
}

func TestSampleLoadsAndConfigures(t *testing.T) {
	env := map[string]string{
		"TEAM_CHAT_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXX",
		"ORDERS_API_KEY":        "k",
	}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	b, err := config.Load([]string{"sample.yaml"}, config.Options{LookupEnv: lookup, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	cc := b.Connection("team-chat")
	if cc == nil {
		t.Fatal("sample.yaml has no team-chat connection")
	}
	raw, err := json.Marshal(cc.Config)
	if err != nil {
		t.Fatal(err)
	}
	h := plugintest.NewHost(t)
	if err := New().Configure(context.Background(), h.Context(raw, pluginsdk.Auth{})); err != nil {
		t.Errorf("team-chat from sample.yaml: %v", err)
	}
}

// The source manifest must be valid and name the connector the spec
// declares; `junction plugin build` checks the same on the built binary.
func TestManifestMatchesSpec(t *testing.T) {
	m, err := registry.ReadManifest(".")
	if err != nil {
		t.Fatal(err)
	}
	spec := New().Spec()
	if m.Name != spec.Name || m.Kind != registry.KindGoPlugin {
		t.Errorf("manifest %s (%s), spec %s", m.Name, m.Kind, spec.Name)
	}
	// The version is declared once, in the Spec: the source manifest leaves
	// it out, and what validation reads from the sources is the Spec's.
	if v, err := registry.SourceVersion("."); m.Version != "" || err != nil || v != spec.Version {
		t.Errorf("manifest version %q, version read from the sources %q (%v), Spec.Version %q", m.Version, v, err, spec.Version)
	}
}
