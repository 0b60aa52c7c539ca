package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/junctionhub/junction/builtin/twilio/twiliotest"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/pluginsdk"
)

type checker struct{}

func (checker) ConnectorKnown(c string) bool { return c == Name || c == "webhook" }
func (checker) TaskKnown(string) bool        { return false }
func (checker) ActionKnown(c, a string) (bool, bool) {
	if c != Name {
		return false, false
	}
	_, ok := spec().Action(a)
	return ok, true
}

// TestSampleTextsTheCustomer loads sample.yaml, points the sms connection at
// a loopback Twilio-compatible API (as a test must: the sample allows only
// api.twilio.com), and runs its workflow's task on testdata/shipped.json.
func TestSampleTextsTheCustomer(t *testing.T) {
	if file, err := os.ReadFile("sample.yaml"); err != nil || !bytes.Equal(file, SampleConfig()) {
		t.Fatalf("SampleConfig differs from sample.yaml (%v)", err)
	}
	env := map[string]string{"TWILIO_ACCOUNT_SID": testSID, "TWILIO_AUTH_TOKEN": testToken, "SHOP_API_KEY": "k",
		"JUNCTION_PUBLIC_URL": "https://junction.example.com"}
	b, err := config.Load([]string{"sample.yaml"}, config.Options{Check: checker{},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	if len(b.Connections) != 2 || len(b.Workflows) != 1 {
		t.Fatalf("%d connections, %d workflows", len(b.Connections), len(b.Workflows))
	}
	api := twiliotest.NewServer(t, testSID, testToken)
	cc := b.Connections[0]
	if cc.Connector != Name || len(cc.Network.AllowHosts) != 1 {
		t.Fatalf("first connection %+v", cc)
	}
	cc.Config["base_url"] = api.URL
	raw, _ := json.Marshal(cc.Config)
	client := host.NewHTTPClient(host.HTTPOptions{AllowPrivate: true, Connection: cc.Name})
	t.Cleanup(client.CloseIdleConnections)
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: cc.Name, Config: raw, HTTP: client,
		Auth: pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Username: cc.Auth.Username, Password: cc.Auth.Password}}); err != nil {
		t.Fatal(err)
	}
	payload, _ := os.ReadFile("testdata/shipped.json")
	doc, err := mapping.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	wf := b.Workflows[0]
	fields, err := wf.Compiled.Fields.Apply(doc)
	if err != nil || !wf.Compiled.Filter.Match(doc) {
		t.Fatalf("fields %v, %v", fields, err)
	}
	with, err := wf.Compiled.With["text"].Render(map[string]any{"event": doc, "fields": fields, "tasks": map[string]any{}, "run": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(with)
	if _, err := c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: ActionSendSMS, Input: input}); err != nil {
		t.Fatal(err)
	}
	m := api.Messages()[0]
	if m.To != "+393331234567" || m.Body != "Hi Giulia, your order ord_1001 has shipped." || m.StatusCallback != "https://junction.example.com/hooks/sms" {
		t.Errorf("message %+v", m)
	}
}
