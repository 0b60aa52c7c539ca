package sftp

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

func TestAcceptance(t *testing.T) {
	srv := startServer(t)
	writeFile(t, srv, "/inbound/profiles.csv", "id,email\n1,a@x.org\n2,b@x.org\n3,c@x.org\n4,d@x.org\n5,e@x.org\n", time.Time{})
	tg := plugintest.Native("sftp", New)
	tg.Config = baseConfig(srv, nil)
	tg.Auth = basicAuth
	tg.BadConfigs = []plugintest.BadConfig{
		{Config: json.RawMessage(`{"host":"sftp.example.com","username":"u","entities":[{"name":"p","path":"/in"}]}`),
			WantMissing: []string{"known_hosts", "host_key_fingerprint"}},
		{Config: json.RawMessage(`{"host":"h","host_key_fingerprint":"SHA256:x","entities":[{"name":"p"}],"timeout":"soon"}`),
			WantMissing: []string{"host_key_fingerprint", "entities[0].path", "timeout"}},
		{Config: json.RawMessage(`{"host":"h","hots":"x"}`), WantMissing: []string{"hots"}},
	}
	tg.Fetch = []plugintest.FetchCase{{Name: "profiles", Entity: "profiles", Limit: 2,
		Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.FetchResult, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 2 || !res.More || res.Events[0].Type != "profiles" ||
				string(res.Events[0].Payload) != `{"file":"/inbound/profiles.csv","line":2,"entity":"profiles","record":{"id":"1","email":"a@x.org"}}` {
				t.Errorf("first batch: %d events, more %v, %s", len(res.Events), res.More, res.Events[0].Payload)
			}
		}}}
	tg.Perform = []plugintest.PerformCase{
		{Name: "export", Request: pluginsdk.PerformRequest{Action: "export", Attempt: 1,
			Input: json.RawMessage(`{"records":[{"email":"a@x.org"}],"path":"/outbound/a.csv"}`)},
			Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.PerformResult, err error) {
				if err == nil && string(res.Output) != `{"path":"/outbound/a.csv","records":1,"bytes":14}` {
					t.Errorf("output %s", res.Output)
				}
			}},
		{Name: "missing directory", Request: pluginsdk.PerformRequest{Action: "export",
			Input: json.RawMessage(`{"records":[],"path":"/missing/a.csv"}`)}, WantError: true},
		{Name: "no records", Request: pluginsdk.PerformRequest{Action: "export",
			Input: json.RawMessage(`{"path":"/outbound/a.csv"}`)}, WantError: true},
	}
	plugintest.Acceptance(t, tg)
	if got := readServerFile(t, "/outbound/a.csv", srv.Local); strings.TrimSpace(got) != "email\na@x.org" {
		t.Errorf("exported %q", got)
	}
}
