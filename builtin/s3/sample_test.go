package s3

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/pluginsdk"
)

// checker knows this connector and the one builtin task the sample uses.
type checker struct{}

func (checker) ConnectorKnown(c string) bool { return c == "s3" }
func (checker) TaskKnown(uses string) bool   { return uses == "directory.upsert_contact" }
func (checker) ActionKnown(c, a string) (bool, bool) {
	_, ok := spec(nil, false).Action(a)
	return c == "s3" && ok, true
}

func TestSampleLoadsAndConfigures(t *testing.T) {
	env := func(name string) (string, bool) { return "value-of-" + name, strings.HasPrefix(name, "S3_") }
	b, err := config.Load([]string{"sample.yaml"}, config.Options{LookupEnv: env, Check: checker{}})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	if len(b.Connections) != 1 || len(b.Workflows) != 2 || b.Connections[0].Schedule == nil {
		t.Fatalf("loaded %d connections, %d workflows", len(b.Connections), len(b.Workflows))
	}
	if !strings.Contains(string(SampleConfig()), "kind: Connection") {
		t.Error("SampleConfig does not return sample.yaml")
	}
	cc := b.Connections[0]
	raw, err := json.Marshal(cc.Config)
	if err != nil {
		t.Fatal(err)
	}
	c := New()
	defer c.(*Connector).Close()
	err = c.Configure(context.Background(), &pluginsdk.Context{Connection: cc.Name, Config: raw,
		Auth: pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Username: cc.Auth.Username, Password: cc.Auth.Password}})
	if err != nil {
		t.Fatalf("connection %s from sample.yaml: %v", cc.Name, err)
	}
	var names []string
	for _, e := range c.Spec().Entities {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "profiles,orders" {
		t.Errorf("configured entities %v", names)
	}
}
