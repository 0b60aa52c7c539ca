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

// checker knows this connector only, so Load checks the sample's connector
// names and `uses:` actions against the real Spec.
type checker struct{}

func (checker) ConnectorKnown(c string) bool { return c == "ticketing" || c == "ticketing@0.1.0" }
func (checker) TaskKnown(string) bool        { return false }
func (checker) ActionKnown(_, a string) (bool, bool) {
	_, ok := (&Ticketing{}).Spec().Action(a)
	return ok, true
}

func TestSampleLoadsAndConfigures(t *testing.T) {
	env := map[string]string{"HELPDESK_API_TOKEN": "tok", "HELPDESK_WEBHOOK_SECRET": "whsec"}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	b, err := config.Load([]string{"sample.yaml"}, config.Options{LookupEnv: lookup, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	cc := b.Connection("help-desk")
	if cc == nil {
		t.Fatal("sample.yaml has no help-desk connection")
	}
	raw, err := json.Marshal(cc.Config)
	if err != nil {
		t.Fatal(err)
	}
	auth := pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Secret: cc.Auth.Secret}
	if err := (&Ticketing{}).Configure(context.Background(), plugintest.NewHost(t).Context(raw, auth)); err != nil {
		t.Errorf("help-desk from sample.yaml: %v", err)
	}
}

// The version is declared once, in the Spec: the source manifest leaves it
// out, and `junction plugin build` writes the Spec's into dist/. The name is
// in both (connections need it before a build), so this test compares it.
func TestManifestMatchesSpec(t *testing.T) {
	m, err := registry.ReadManifest(".")
	if err != nil {
		t.Fatal(err)
	}
	spec := (&Ticketing{}).Spec()
	if m.Name != spec.Name || m.Kind != registry.KindWasm {
		t.Errorf("manifest %s (%s), spec %s", m.Name, m.Kind, spec.Name)
	}
	// What `junction validate` reads from the sources before any build.
	if v, err := registry.SourceVersion("."); m.Version != "" || err != nil || v != spec.Version {
		t.Errorf("manifest version %q, version read from the sources %q (%v), Spec.Version %q", m.Version, v, err, spec.Version)
	}
	if !m.Capabilities.KV || len(m.Capabilities.HTTPHosts) == 0 {
		t.Errorf("manifest capabilities %+v: add_note needs http_hosts and kv", m.Capabilities)
	}
}
