package connector

import (
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/pluginsdk"
)

func setupConn(spec pluginsdk.Spec, auth pluginsdk.Auth, cfg map[string]any) *Conn {
	return &Conn{
		Config: &config.Connection{Name: "in", Connector: spec.Name, Auth: config.Auth{Type: string(auth.Type)}, Config: cfg},
		Spec:   spec, Auth: auth,
	}
}

func TestSetup(t *testing.T) {
	receive := []string{pluginsdk.RoleReceive}
	steps := []pluginsdk.SetupStep{
		{Title: "signed", Text: "{{if .Config.shared_secret}}{{.URL}} {{.Config.shared_secret}}{{end}}"},
		{Title: "key", Text: "{{.URL}}/v1 key={{.Secret}} region={{.Config.region}}", Help: "paste it"},
		{Title: "curl", Text: "curl {{shell .URL}} -H {{shell (print \"K: \" .Secret)}}"},
		{Title: "basic", Text: "{{.Username}}:{{.Password}}"},
		{Title: "escaped", Text: "{{if .Secret}}'{{js .Secret}}' \"{{html .Secret}}\"{{end}}"},
	}
	spec := pluginsdk.Spec{Name: "kind", Roles: receive, Setup: steps,
		Config: []pluginsdk.Param{{Name: "shared_secret", Type: pluginsdk.TypeSecret}}}
	key := pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "k'3y"}
	tests := []struct {
		name   string
		conn   *Conn
		reveal bool
		want   []string // "title=text", in order
		note   string
	}{
		{"hidden", setupConn(spec, key, map[string]any{"shared_secret": "sh", "region": "eu"}), false, []string{
			"signed=https://hub.test/hooks/in <redacted>",
			"key=https://hub.test/hooks/in/v1 key=<redacted> region=eu",
			`curl=curl 'https://hub.test/hooks/in' -H 'K: <redacted>'`,
			"basic=:",
			`escaped='<redacted>' "<redacted>"`,
		}, ""},
		{"revealed", setupConn(spec, key, map[string]any{"shared_secret": "sh", "region": "eu"}), true, []string{
			"signed=https://hub.test/hooks/in sh",
			"key=https://hub.test/hooks/in/v1 key=k'3y region=eu",
			`curl=curl 'https://hub.test/hooks/in' -H 'K: k'\''3y'`,
			"basic=:",
			`escaped='k\'3y' "k&#39;3y"`,
		}, ""},
		{"a step about an unset key is left out", setupConn(spec, pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "u", Password: "p"}, nil), false, []string{
			"key=https://hub.test/hooks/in/v1 key= region=<no value>",
			"curl=curl 'https://hub.test/hooks/in' -H 'K: '",
			"basic=u:<redacted>",
		}, ""},
		{"no steps declared: the hook URL", setupConn(pluginsdk.Spec{Name: "plain", Roles: receive}, key, nil), false, []string{
			"Hook URL=https://hub.test/hooks/in",
		}, ""},
		{"a broken step is reported in its place", setupConn(pluginsdk.Spec{Name: "bad", Roles: receive, Setup: []pluginsdk.SetupStep{{Title: "t", Text: "{{.Nope}}"}}}, key, nil), false, []string{
			"t=this step could not be filled in: render: template: step:1:2: executing \"step\" at <.Nope>: can't evaluate field Nope in type connector.setupData",
		}, ""},
		{"outbound only", setupConn(pluginsdk.Spec{Name: "out", Roles: []string{pluginsdk.RolePerform}, Setup: steps}, key, nil), true, nil,
			"connection in receives nothing (its connector out only perform), so there is nothing to point at it"},
		{"receives, but has no auth", &Conn{Config: &config.Connection{Name: "in"}, Spec: spec}, true, nil,
			"connection in receives no pushes until it has an auth block, so there is nothing to point at it yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.conn.Setup("https://hub.test", BaseFromPublicURL, tt.reveal)
			var got []string
			for _, st := range s.Steps {
				got = append(got, st.Title+"="+st.Text)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("steps\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if s.Note != tt.note || s.Revealed != tt.reveal || s.BaseURL != "https://hub.test" || s.Connection != "in" {
				t.Errorf("setup %+v", s)
			}
		})
	}
}

func TestSetupBase(t *testing.T) {
	tests := []struct{ public, request, want, from string }{
		{"https://hub.example.com/", "http://10.0.0.1:8080", "https://hub.example.com", BaseFromPublicURL},
		{"", "http://127.0.0.1:8080", "http://127.0.0.1:8080", BaseFromRequest},
	}
	for _, tt := range tests {
		if got, from := SetupBase(tt.public, tt.request); got != tt.want || from != tt.from {
			t.Errorf("SetupBase(%q, %q) = %q, %q", tt.public, tt.request, got, from)
		}
	}
}
