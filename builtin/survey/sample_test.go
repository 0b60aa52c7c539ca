package survey

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
	"github.com/junctionhub/junction/builtin/twilio/twiliotest"
	_ "github.com/junctionhub/junction/builtin/webhook" // the sample's inbound connection
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

type checker struct{}

func (checker) ConnectorKnown(c string) bool {
	_, ok := connector.LookupBuiltin(c)
	return ok
}
func (checker) TaskKnown(uses string) bool {
	_, ok := task.Lookup(uses)
	return ok
}
func (checker) ActionKnown(string, string) (bool, bool) { return false, false }

// runWorkflows does what the engine does with one event: every workflow of
// the connection whose filter matches has its fields mapped and its tasks'
// `with:` rendered and executed. It returns the matched workflows' names.
func runWorkflows(t *testing.T, b *config.Bundle, conn string, ev *event.Event, ex map[string]task.Executor) []string {
	t.Helper()
	doc, err := mapping.Decode(ev.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var ran []string
	for _, wf := range b.Workflows {
		if wf.Trigger.Connection != conn || !wf.Compiled.Filter.Match(doc) {
			continue
		}
		ran = append(ran, wf.Name)
		fields, err := wf.Compiled.Fields.Apply(doc)
		if err != nil {
			t.Fatalf("%s: fields: %v", wf.Name, err)
		}
		data := map[string]any{"event": doc, "fields": fields, "tasks": map[string]any{}, "run": map[string]any{}}
		for _, tk := range wf.Tasks {
			v, err := wf.Compiled.With[tk.Name].Render(data)
			if err != nil {
				t.Fatalf("%s: render %s: %v", wf.Name, tk.Name, err)
			}
			input, _ := json.Marshal(v)
			out, err := ex[tk.Uses].Execute(context.Background(), &task.Call{RunID: "run_" + wf.Name, Workflow: wf.Name, Task: tk.Name,
				Input: input, IdempotencyKey: "run_" + wf.Name + "/" + tk.Name, Attempt: 1, Event: ev})
			if err != nil {
				t.Fatalf("%s: task %s: %v", wf.Name, tk.Name, pluginsdk.AsError(err))
			}
			var o any
			_ = json.Unmarshal(out, &o)
			data["tasks"].(map[string]any)[tk.Name] = map[string]any{"output": o}
		}
	}
	return ran
}

// TestSampleRunsEndToEnd loads sample.yaml, points its smtp and twilio
// connections at servers on loopback, and plays a day: an email invitation,
// a two-way SMS invitation, and the SMS reply arriving as a signed Twilio
// webhook.
func TestSampleRunsEndToEnd(t *testing.T) {
	if file, err := os.ReadFile("sample.yaml"); err != nil || !bytes.Equal(file, SampleConfig()) {
		t.Fatalf("SampleConfig differs from sample.yaml (%v)", err)
	}
	mail := smtptest.NewServer(t, smtptest.Options{Username: "surveys", Password: "pw"})
	api := twiliotest.NewServer(t, accountSID, authToken)
	env := map[string]string{"SMTP_USERNAME": "surveys", "SMTP_PASSWORD": "pw", "SMTP_HOST": mail.Host, "SMTP_CA_CERT": mail.CAPEM,
		"TWILIO_ACCOUNT_SID": accountSID, "TWILIO_AUTH_TOKEN": authToken, "TWILIO_FROM": "+15005550006", "VISITS_API_KEY": "k"}
	b, err := config.Load([]string{"sample.yaml"}, config.Options{Check: checker{},
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatalf("config.Load(sample.yaml): %s", config.FormatErrors(err))
	}
	for _, cc := range b.Connections {
		switch cc.Name {
		case "mail":
			cc.Config["port"] = mail.Port
		case "sms":
			cc.Config["base_url"] = api.URL
			cc.Network = config.Network{AllowPrivate: true}
		}
	}
	st := openStore(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr, err := connector.NewManager(context.Background(), connector.ManagerOptions{Connections: b.Connections, Store: st, Logger: log,
		BaseURL: "https://junction.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mgr.Close() })
	dir := directory.New(st, b.Directories)
	tenv := &task.Env{Logger: log, Events: st.Log(), Secrets: st.Secrets(), Contacts: dir, Distributions: dir,
		Connections: mgr.ForTasks(), Surveys: b.Surveys}
	ex := map[string]task.Executor{"survey.distribute": build(t, tenv, "survey.distribute"), "survey.record_reply": build(t, tenv, "survey.record_reply")}
	ctx := context.Background()

	for _, f := range []string{"visit-email.json", "visit-sms.json"} {
		payload, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if ran := runWorkflows(t, b, "visits", &event.Event{Connection: "visits", Payload: payload}, ex); len(ran) != 1 {
			t.Fatalf("%s started %v, want one workflow", f, ran)
		}
	}
	p, err := smtptest.Parse(mail.Messages()[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject() != "How was your visit to Milano Centrale?" || !strings.Contains(p.Text, "Hi Ann,") || !strings.Contains(p.Text, "?jt=") {
		t.Errorf("email: %q\n%s", p.Subject(), p.Text)
	}
	sms := api.Messages()
	if len(sms) != 1 || sms[0].To != "+393331234567" || !strings.HasPrefix(sms[0].Body, "Ciao Giulia, from 0 to 10 how was Roma Termini? Reply with a number, or answer here: https://surveys.example.com/jfe/form/SV_demo?jt=") {
		t.Fatalf("sms %+v", sms)
	}

	// Giulia answers "9": Twilio posts it, signed, to /hooks/sms.
	body, _ := inbound(t)
	hook := "https://junction.example.com/hooks/sms"
	conn, _ := mgr.Get("sms")
	res, err := conn.Connector.(pluginsdk.Receiver).Receive(ctx, &pluginsdk.HTTPRequest{Method: "POST", URL: hook, Body: []byte(body),
		Header: map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Twilio-Signature": {twilioSignature(authToken, hook, body)}}})
	if err != nil {
		t.Fatalf("inbound reply: %v", err)
	}
	ev := &event.Event{ID: "evt_0000000000000007", Connection: "sms", Type: res.Events[0].Type, ReceivedAt: time.Now().UTC(), Payload: res.Events[0].Payload}
	if ran := runWorkflows(t, b, "sms", ev, ex); len(ran) != 1 || ran[0] != "sms-survey-replies" {
		t.Fatalf("the reply started %v", ran)
	}
	found, err := dir.Find(ctx, "POOL_demo", directory.Query{Phone: "+393331234567"}, 0)
	if err != nil || len(found) != 1 {
		t.Fatalf("find Giulia: %v, %v", found, err)
	}
	dists, _ := dir.Distributions(ctx, found[0].ID)
	if len(dists) != 1 || dists[0].Status != "answered" || dists[0].Method != "sms_two_way" || len(dists[0].Answers) != 1 || dists[0].Answers[0].Body != "9" {
		t.Errorf("Giulia's distributions %+v", dists)
	}
}
