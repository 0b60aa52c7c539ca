package host

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// TestGrantIntersection: a plugin reaches only the hosts that both its
// install grant and its connection's allow_hosts allow, and a refusal names
// the list that refused.
func TestGrantIntersection(t *testing.T) {
	srvA := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srvA.Close()
	srvB := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srvB.Close()
	hostA, hostB := strings.TrimPrefix(srvA.URL, "http://"), strings.TrimPrefix(srvB.URL, "http://")

	tests := []struct {
		name  string
		grant *HostGrant
		allow []string
		url   string
		want  string // "" means the request goes through
	}{
		{"builtin: allow_hosts alone", nil, []string{hostA, hostB}, srvB.URL, ""},
		{"in both", &HostGrant{Plugin: "p@1", Hosts: []string{hostA}}, []string{hostA, hostB}, srvA.URL, ""},
		{"grant, no allow_hosts", &HostGrant{Plugin: "p@1", Hosts: []string{hostA}}, nil, srvA.URL, ""},
		{"allow_hosts widens nothing", &HostGrant{Plugin: "p@1", Hosts: []string{hostA}}, []string{hostA, hostB}, srvB.URL,
			`host "` + hostB + `" is not in plugin p@1's install grant (capabilities.http_hosts)`},
		{"allow_hosts narrows", &HostGrant{Plugin: "p@1", Hosts: []string{"127.0.0.1"}}, []string{hostA}, srvB.URL,
			`host "` + hostB + `" is not in network.allow_hosts`},
		{"neither", &HostGrant{Plugin: "p@1", Hosts: []string{hostA}}, []string{hostA}, "http://api.example.com/",
			`host "api.example.com" is neither in plugin p@1's install grant (capabilities.http_hosts) nor in network.allow_hosts`},
		{"empty grant allows nothing", &HostGrant{Plugin: "p@1"}, []string{hostA}, srvA.URL,
			`is not in plugin p@1's install grant`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, HTTPOptions{AllowHosts: tt.allow, AllowPrivate: true, Grant: tt.grant})
			resp, err := c.Do(context.Background(), &pluginsdk.HTTPRequest{Method: "GET", URL: tt.url})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if resp.Status != http.StatusNoContent {
					t.Fatalf("status %d", resp.Status)
				}
				return
			}
			pe := wantError(t, err, "egress_denied", false)
			if !strings.Contains(pe.Message, tt.want) {
				t.Errorf("message %q does not contain %q", pe.Message, tt.want)
			}
		})
	}
}
