package smtp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/pluginsdk"
)

// checker knows this connector, the webhook connector and no tasks, so Load
// checks the sample's connector names and `uses:` actions.
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

func TestSampleIsYAMLWithDocumentedKinds(t *testing.T) {
	if file, err := os.ReadFile("sample.yaml"); err != nil || !bytes.Equal(file, SampleConfig()) {
		t.Fatalf("SampleConfig differs from sample.yaml (%v)", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(SampleConfig()))
	var got []string
	for {
		var doc struct {
			Kind     string `yaml:"kind"`
			Metadata struct{ Name string }
		}
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		got = append(got, doc.Kind+"/"+doc.Metadata.Name)
	}
	if want := "Connection/mail Connection/shop-events Workflow/shipped-email"; strings.Join(got, " ") != want {
		t.Errorf("documents %v, want %s", got, want)
	}
}

// TestSampleSendsTheShippedEmail loads sample.yaml, points the mail
// connection at a test server, renders the workflow's task on the payload
// in testdata as the engine would, and sends it.
func TestSampleSendsTheShippedEmail(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{Username: "orders", Password: "pw"})
	env := map[string]string{"SMTP_USERNAME": "orders", "SMTP_PASSWORD": "pw", "SMTP_HOST": srv.Host, "SMTP_CA_CERT": srv.CAPEM, "SHOP_API_KEY": "k"}
	b, err := config.Load([]string{"sample.yaml"}, config.Options{Check: checker{},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	var c *Connector
	for _, cc := range b.Connections {
		if cc.Connector != Name {
			continue
		}
		cc.Config["port"] = srv.Port // the sample says 587
		raw, _ := json.Marshal(cc.Config)
		c = New().(*Connector)
		if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: cc.Name, Config: raw,
			Auth: pluginsdk.Auth{Type: pluginsdk.AuthType(cc.Auth.Type), Username: cc.Auth.Username, Password: cc.Auth.Password}}); err != nil {
			t.Fatalf("configure %s: %v", cc.Name, err)
		}
	}
	payload, err := os.ReadFile("testdata/shipped.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := mapping.Decode(payload)
	if err != nil {
		t.Fatal(err)
	}
	wf := b.Workflows[0]
	if !wf.Compiled.Filter.Match(doc) {
		t.Fatal("the sample workflow does not match testdata/shipped.json")
	}
	fields, err := wf.Compiled.Fields.Apply(doc)
	if err != nil {
		t.Fatal(err)
	}
	with, err := wf.Compiled.With["notify"].Render(map[string]any{"event": doc, "fields": fields, "tasks": map[string]any{}, "run": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(with)
	if _, err := c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: ActionSendEmail, Input: input, IdempotencyKey: "run/notify"}); err != nil {
		t.Fatalf("send: %v", err)
	}
	p, err := smtptest.Parse(srv.Messages()[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject() != "Your order ord_1001 is on its way" || !strings.Contains(p.Text, "Track it here: https://track.example.com/1Z999?lang=it&ref=mail") ||
		!strings.Contains(p.HTML, `<a href="https://track.example.com/1Z999?lang=it&amp;ref=mail">`) || p.Header.Get("X-Order") != "ord_1001" ||
		p.Header.Get("List-Unsubscribe") != "<mailto:unsubscribe@example.com?subject=orders>" {
		t.Errorf("sent %+v", p)
	}
}
