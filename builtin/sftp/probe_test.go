package sftp

import (
	"context"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
)

func TestProbe(t *testing.T) {
	srv := startServer(t)
	tests := []struct {
		name    string
		edit    func(m map[string]any)
		auth    pluginsdk.Auth
		private bool
		want    map[string]connector.ProbeStatus // check -> status
		detail  string                           // in the failing check's detail
	}{
		{name: "all good", auth: basicAuth, private: true,
			want: map[string]connector.ProbeStatus{"host key": connector.ProbeOK, "login": connector.ProbeOK, "entity profiles path": connector.ProbeOK}},
		{name: "wrong host key", auth: basicAuth, private: true,
			edit: func(m map[string]any) {
				m["host_key_fingerprint"] = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			},
			want: map[string]connector.ProbeStatus{"host key": connector.ProbeFail}, detail: "host key mismatch: server offered " + srv.Fingerprint()},
		{name: "wrong password", private: true, auth: pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testUser, Password: "nope"},
			want: map[string]connector.ProbeStatus{"host key": connector.ProbeOK, "login": connector.ProbeFail}, detail: "authentication failed"},
		{name: "missing directory", auth: basicAuth, private: true,
			edit: entityEdit(func(e map[string]any) { e["path"] = "/nowhere" }),
			want: map[string]connector.ProbeStatus{"entity profiles path": connector.ProbeFail}, detail: "/nowhere: no such directory"},
		{name: "loopback without allow_private", auth: basicAuth, private: false,
			want: map[string]connector.ProbeStatus{"connect " + srv.Addr: connector.ProbeSkip}, detail: "allow_private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.Accepted()
			c := connect(t, baseConfig(srv, tt.edit), tt.auth)
			hc := host.NewHTTPClient(host.HTTPOptions{AllowPrivate: tt.private, Connection: "files"})
			defer hc.CloseIdleConnections()
			got := map[string]connector.ProbeResult{}
			for _, r := range c.Probe(context.Background(), &connector.ProbeEnv{Dial: hc.Dial, Reach: hc.Reach}) {
				got[r.Check] = r
			}
			for check, status := range tt.want {
				r, ok := got[check]
				if !ok || r.Status != status {
					t.Fatalf("check %q: %+v, want %s (all: %+v)", check, r, status, got)
				}
				if status != connector.ProbeOK && !strings.Contains(r.Detail, tt.detail) {
					t.Errorf("check %q detail %q, want it to contain %q", check, r.Detail, tt.detail)
				}
			}
			if !tt.private && srv.Accepted() != before {
				t.Error("the probe dialled a loopback server without allow_private")
			}
		})
	}
}
