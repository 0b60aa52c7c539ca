package s3

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/builtin/s3/s3test"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

func TestAcceptance(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	srv.Put(t, testBucket, "inbound/profiles.csv", "id,email\n1,a@x.org\n2,b@x.org\n3,c@x.org\n4,d@x.org\n5,e@x.org\n")
	tg := plugintest.Native("s3", New)
	tg.Config = baseConfig(srv, nil)
	tg.Auth = keyAuth
	tg.BadConfigs = []plugintest.BadConfig{
		{Config: json.RawMessage(`{"endpoint":"ftp://x","part_size":1024}`), WantMissing: []string{"bucket", "endpoint", "part_size"}},
		{Config: json.RawMessage(`{"bucket":"b","entities":[{"name":"p","format":"xml","archive_prefix":"arch"}]}`),
			WantMissing: []string{"entities[0].format", "entities[0].archive_prefix"}},
		{Config: json.RawMessage(`{"bucket":"b","buckets":"x"}`), WantMissing: []string{"buckets"}},
	}
	tg.Fetch = []plugintest.FetchCase{{Name: "profiles", Entity: "profiles", Limit: 2,
		Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.FetchResult, err error) {
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 2 || !res.More ||
				string(res.Events[1].Payload) != `{"file":"inbound/profiles.csv","line":3,"entity":"profiles","record":{"id":"2","email":"b@x.org"}}` {
				t.Errorf("first batch: %d events, more %v, %s", len(res.Events), res.More, res.Events[1].Payload)
			}
		}}}
	tg.Perform = []plugintest.PerformCase{
		{Name: "export", Request: pluginsdk.PerformRequest{Action: "export", Attempt: 1,
			Input: json.RawMessage(`{"records":[{"email":"a@x.org"}],"key":"outbound/a.csv"}`)}},
		{Name: "no key", Request: pluginsdk.PerformRequest{Action: "export", Input: json.RawMessage(`{"records":[]}`)}, WantError: true},
	}
	plugintest.Acceptance(t, tg)
	if got, _ := srv.Get(t, testBucket, "outbound/a.csv"); got != "email\na@x.org\n" {
		t.Errorf("exported %q", got)
	}
}

func TestConfigureErrors(t *testing.T) {
	srv := s3test.Start(t)
	tests := []struct {
		name string
		edit func(m map[string]any)
		auth pluginsdk.Auth
		want []string
	}{
		{"empty secret", nil, pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "AKID"}, []string{"auth.password (the secret access key) is empty"}},
		{"api_key", nil, pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "x"}, []string{`auth.type "api_key" is not supported`}},
		{"bad values", func(m map[string]any) {
			m["bucket"] = "a/b"
			m["endpoint"] = "http://user:pw@minio"
			m["timeout"] = "later"
			m["entities"] = []any{map[string]any{"name": "p", "prefix": "/in/"},
				map[string]any{"name": "q", "prefix": "in/x-", "archive_prefix": "in/"}}
		}, keyAuth, []string{"config.bucket", "config.endpoint", "config.timeout", "entities[0].prefix", "entities[1].archive_prefix is the import prefix's folder"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := New().Configure(context.Background(), &pluginsdk.Context{Connection: "x", Config: baseConfig(srv, tt.edit), Auth: tt.auth})
			if err == nil {
				t.Fatal("Configure succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
