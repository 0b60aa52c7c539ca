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

// checker knows this connector, the builtin webhook and the directory
// tasks, so Load checks connector names and `uses:` against them.
type checker struct{}

func (checker) ConnectorKnown(c string) bool {
	return c == "segment" || c == "segment@1.0.0" || c == "webhook"
}
func (checker) TaskKnown(uses string) bool { return strings.HasPrefix(uses, "directory.") }
func (checker) ActionKnown(c, a string) (bool, bool) {
	if c == "webhook" {
		return a == "post", true
	}
	return false, true // segment performs nothing
}

// TestConfigsLoadAndConfigure loads sample.yaml and the ready workflows of
// configs/segment.yaml, and configures the connector with each Segment
// connection they declare.
func TestConfigsLoadAndConfigure(t *testing.T) {
	for _, tc := range []struct {
		file      string
		workflows int
	}{
		{"sample.yaml", 1},
		{"../../configs/segment.yaml", 3},
	} {
		t.Run(tc.file, func(t *testing.T) {
			env := func(name string) (string, bool) {
				if strings.HasSuffix(name, "_ORIGIN") { // spec.cors checks it is an origin
					return "https://shop.example.com", true
				}
				return "value-of-" + name, true
			}
			b, err := config.Load([]string{tc.file}, config.Options{LookupEnv: env, Check: checker{}})
			if err != nil {
				t.Fatalf("config.Load: %s", config.FormatErrors(err))
			}
			if len(b.Workflows) != tc.workflows || len(b.Directories) != 1 {
				t.Errorf("%d workflows, %d directories; want %d and 1", len(b.Workflows), len(b.Directories), tc.workflows)
			}
			if len(b.Warnings) > 0 {
				t.Errorf("warnings: %v", b.Warnings)
			}
			n := 0
			for _, cc := range b.Connections {
				if !strings.HasPrefix(cc.Connector, "segment") {
					continue
				}
				n++
				raw, err := json.Marshal(cc.Config)
				if err != nil {
					t.Fatal(err)
				}
				auth := pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Secret: cc.Auth.Secret}
				if err := (&Segment{}).Configure(context.Background(), plugintest.NewHost(t).Context(raw, auth)); err != nil {
					t.Errorf("connection %s: %v", cc.Name, err)
				}
			}
			if n != 1 {
				t.Errorf("%d segment connections, want 1", n)
			}
		})
	}
}

// The manifest must be valid and name the connector the spec declares.
func TestManifestMatchesSpec(t *testing.T) {
	m, err := registry.ReadManifest(".")
	if err != nil {
		t.Fatal(err)
	}
	spec := (&Segment{}).Spec()
	if m.Name != spec.Name || m.Kind != registry.KindWasm {
		t.Errorf("manifest %s (%s), spec %s", m.Name, m.Kind, spec.Name)
	}
	// The version is declared once, in the Spec: the source manifest leaves
	// it out, and what validation reads from the sources is the Spec's.
	if v, err := registry.SourceVersion("."); m.Version != "" || err != nil || v != spec.Version {
		t.Errorf("manifest version %q, version read from the sources %q (%v), Spec.Version %q", m.Version, v, err, spec.Version)
	}
	if m.Capabilities.KV || len(m.Capabilities.HTTPHosts) > 0 {
		t.Error("the connector only receives: it must ask for no KV and no hosts")
	}
}
