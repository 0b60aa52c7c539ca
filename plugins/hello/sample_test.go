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

// checker knows exactly this connector, so Load checks the sample's
// connector names and `uses:` actions against the real Spec.
type checker struct{}

func (checker) ConnectorKnown(c string) bool { return c == "hello" || c == "hello@0.1.0" }
func (checker) TaskKnown(string) bool        { return false }
func (checker) ActionKnown(c, a string) (bool, bool) {
	_, ok := (&Hello{}).Spec().Action(a)
	return ok, true
}

func TestSampleLoadsAndConfigures(t *testing.T) {
	env := func(name string) (string, bool) { return "token-" + name, name == "HELLO_TOKEN" }
	b, err := config.Load([]string{"sample.yaml"}, config.Options{LookupEnv: env, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	if len(b.Connections) != 2 || len(b.Workflows) != 1 {
		t.Fatalf("loaded %d connections, %d workflows; want 2 and 1", len(b.Connections), len(b.Workflows))
	}
	for _, cc := range b.Connections {
		raw, err := json.Marshal(cc.Config)
		if err != nil {
			t.Fatal(err)
		}
		h := plugintest.NewHost(t)
		pc := h.Context(raw, pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Secret: cc.Auth.Secret})
		if err := (&Hello{}).Configure(context.Background(), pc); err != nil {
			t.Errorf("connection %s from sample.yaml: %v", cc.Name, err)
		}
	}
}

// The manifest must be valid and name the connector the spec declares.
func TestManifestMatchesSpec(t *testing.T) {
	m, err := registry.ReadManifest(".")
	if err != nil {
		t.Fatal(err)
	}
	spec := (&Hello{}).Spec()
	if m.Name != spec.Name || m.Kind != registry.KindWasm {
		t.Errorf("manifest %s (%s), spec %s", m.Name, m.Kind, spec.Name)
	}
	// The version is declared once, in the Spec: the source manifest leaves
	// it out, and what validation reads from the sources is the Spec's.
	if v, err := registry.SourceVersion("."); m.Version != "" || err != nil || v != spec.Version {
		t.Errorf("manifest version %q, version read from the sources %q (%v), Spec.Version %q", m.Version, v, err, spec.Version)
	}
	if !m.Capabilities.KV {
		t.Error("the manifest must ask for kv: the count action uses it")
	}
}
