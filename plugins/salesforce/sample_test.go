package main

import (
	"context"
	"encoding/json"
	"testing"

	_ "github.com/junctionhub/junction/builtin/directorytasks" // registers the directory tasks the sample uses
	_ "github.com/junctionhub/junction/builtin/smtp"           // registers the smtp connector
	_ "github.com/junctionhub/junction/builtin/survey"         // registers survey.distribute
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// checker knows this connector and the builtins, so Load checks the
// sample's connector names, tasks and actions for real.
type checker struct{}

func (checker) ConnectorKnown(c string) bool {
	_, builtin := connector.LookupBuiltin(c)
	return builtin || c == "salesforce" || c == "salesforce@"+Version
}
func (checker) TaskKnown(uses string) bool { _, ok := task.Lookup(uses); return ok }
func (checker) ActionKnown(c, a string) (bool, bool) {
	if b, ok := connector.LookupBuiltin(c); ok {
		_, known := b.New().Spec().Action(a)
		return known, true
	}
	return false, false
}

func TestSampleLoadsAndConfigures(t *testing.T) {
	env := func(name string) (string, bool) {
		v, ok := map[string]string{"SMTP_HOST": "smtp.example.com", "SMTP_USERNAME": "care", "SMTP_PASSWORD": "secret", "SF_PATH_TOKEN": testToken}[name]
		return v, ok
	}
	b, err := config.Load([]string{"sample.yaml"}, config.Options{LookupEnv: env, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	if len(b.Workflows) != 3 {
		t.Fatalf("loaded %d workflows, want 3", len(b.Workflows))
	}
	n := 0
	for _, cc := range b.Connections {
		if cc.Connector != "salesforce@"+Version {
			continue
		}
		n++
		raw, err := json.Marshal(cc.Config)
		if err != nil {
			t.Fatal(err)
		}
		h := plugintest.NewHost(t)
		auth := pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Secret: cc.Auth.Secret}
		if auth.Type != pluginsdk.AuthAPIKey {
			t.Errorf("connection %s from sample.yaml: auth %s, want api_key (the path token)", cc.Name, auth.Type)
		}
		if err := (&Salesforce{}).Configure(context.Background(), h.Context(raw, auth)); err != nil {
			t.Errorf("connection %s from sample.yaml: %v", cc.Name, err)
		}
	}
	if n != 1 {
		t.Errorf("%d salesforce connections in sample.yaml, want 1", n)
	}
}

// The manifest must be valid and name the connector the spec declares.
func TestManifestMatchesSpec(t *testing.T) {
	m, err := registry.ReadManifest(".")
	if err != nil {
		t.Fatal(err)
	}
	spec := (&Salesforce{}).Spec()
	if m.Name != spec.Name || m.Kind != registry.KindWasm {
		t.Errorf("manifest %s (%s), spec %s", m.Name, m.Kind, spec.Name)
	}
	// The version is declared once, in the Spec: the source manifest leaves
	// it out, and what validation reads from the sources is the Spec's.
	if v, err := registry.SourceVersion("."); m.Version != "" || err != nil || v != spec.Version {
		t.Errorf("manifest version %q, version read from the sources %q (%v), Spec.Version %q", m.Version, v, err, spec.Version)
	}
	if m.Capabilities.KV || len(m.Capabilities.HTTPHosts) > 0 {
		t.Errorf("capabilities %+v: the connector neither calls out nor keeps state", m.Capabilities)
	}
}
