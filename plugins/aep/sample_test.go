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

// checker knows this connector, the smtp builtin and the directory and
// survey tasks, so Load checks connector names and `uses:` against them.
type checker struct{}

func (checker) ConnectorKnown(c string) bool { return c == "aep" || c == "aep@1.0.0" || c == "smtp" }
func (checker) TaskKnown(uses string) bool {
	return strings.HasPrefix(uses, "directory.") || uses == "survey.distribute"
}
func (checker) ActionKnown(string, string) (bool, bool) { return false, true }

// TestConfigsLoadAndConfigure loads sample.yaml and configs/aep.yaml and
// configures the connector with each AEP connection they declare.
func TestConfigsLoadAndConfigure(t *testing.T) {
	env := map[string]string{"AEP_USERNAME": "u", "AEP_API_TOKEN": "t", "AEP_SEGMENT_ID": "seg-1"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct {
		file      string
		workflows int
	}{
		{"sample.yaml", 1},
		{"../../configs/aep.yaml", 2},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := config.Load([]string{tc.file}, config.Options{LookupEnv: lookup, Check: checker{}})
			if err != nil {
				t.Fatalf("config.Load: %s", config.FormatErrors(err))
			}
			if len(b.Workflows) != tc.workflows || len(b.Warnings) > 0 {
				t.Errorf("%d workflows (want %d), warnings %v", len(b.Workflows), tc.workflows, b.Warnings)
			}
			var cc *config.Connection
			for _, c := range b.Connections {
				if strings.HasPrefix(c.Connector, "aep") {
					cc = c
				}
			}
			if cc == nil {
				t.Fatal("no aep connection")
			}
			raw, err := json.Marshal(cc.Config)
			if err != nil {
				t.Fatal(err)
			}
			auth := pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Username: cc.Auth.Username, Password: cc.Auth.Password}
			if err := (&AEP{}).Configure(context.Background(), plugintest.NewHost(t).Context(raw, auth)); err != nil {
				t.Errorf("connection %s: %v", cc.Name, err)
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
	spec := (&AEP{}).Spec()
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
