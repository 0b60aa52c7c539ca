package smtp

import (
	"encoding/json"
	"testing"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

func TestAcceptance(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{Username: "surveys", Password: "s3cret", RejectRecipients: []string{"gone@example.com"}})
	cfg, err := json.Marshal(map[string]any{"host": srv.Host, "port": srv.Port, "from": "surveys@example.com", "ca_cert": srv.CAPEM})
	if err != nil {
		t.Fatal(err)
	}
	tg := plugintest.Native(Name, New)
	tg.Config = cfg
	tg.Auth = basic("surveys", "s3cret")
	tg.BadConfigs = []plugintest.BadConfig{
		{Config: json.RawMessage(`{"host":"smtp.example.com","from":"a@example.com","tls_insecure_skip_verify":true}`), WantMissing: []string{"tls_insecure_skip_verify", "ca_cert"}},
		{Config: json.RawMessage(`{"host":"smtp.example.com:587","from":"not an address","port":70000}`), WantMissing: []string{"host", "from", "port"}},
		{Config: json.RawMessage(`{"host":"smtp.example.com","from":"a@example.com","ca_cert":"/etc/ssl/ca.pem","timeout":"soon"}`), WantMissing: []string{"ca_cert", "timeout"}},
		{Config: json.RawMessage(`{"host":"smtp.example.com","from":"a@example.com","starttls":"maybe"}`), WantMissing: []string{"starttls"}},
	}
	tg.Perform = []plugintest.PerformCase{
		{Name: "send", Request: pluginsdk.PerformRequest{Action: ActionSendEmail, IdempotencyKey: "run-1/mail", Attempt: 1,
			Input: json.RawMessage(`{"to":"ann@example.com","subject":"Hello","text":"Hi","html":"<p>Hi</p>"}`)},
			Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.PerformResult, err error) {
				if err != nil {
					return
				}
				var out Output
				if json.Unmarshal(res.Output, &out) != nil || out.MessageID == "" || len(srv.Messages()) == 0 {
					t.Errorf("output %s, %d messages on the server", res.Output, len(srv.Messages()))
				}
			}},
		{Name: "rejected recipient", Request: pluginsdk.PerformRequest{Action: ActionSendEmail,
			Input: json.RawMessage(`{"to":"gone@example.com","subject":"Hello","text":"Hi"}`)}, WantError: true},
		{Name: "missing subject", Request: pluginsdk.PerformRequest{Action: ActionSendEmail,
			Input: json.RawMessage(`{"to":"ann@example.com","text":"Hi"}`)}, WantError: true},
	}
	plugintest.Acceptance(t, tg)
}
