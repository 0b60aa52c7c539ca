package webhook

import (
	"context"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/connector/host"
)

func TestProbe(t *testing.T) {
	a := newOAuthAPI(t)
	tests := []struct {
		name    string
		secret  string
		private bool
		url     connector.ProbeStatus
		oauth   connector.ProbeStatus
		detail  string
	}{
		{"reachable, token issued", "s3cret", true, connector.ProbeOK, connector.ProbeOK, ""},
		{"bad client secret", "wrong", true, connector.ProbeOK, connector.ProbeFail, "invalid_client"},
		{"loopback without allow_private", "s3cret", false, connector.ProbeFail, connector.ProbeFail, "allow_private"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens := a.requests.Load()
			c, err := configureOAuth(t, a, tt.secret, tt.private, "")
			if err != nil {
				t.Fatal(err)
			}
			hc := host.NewHTTPClient(host.HTTPOptions{AllowPrivate: tt.private, Connection: "crm"})
			defer hc.CloseIdleConnections()
			res := c.Probe(context.Background(), &connector.ProbeEnv{Dial: hc.Dial, Reach: hc.Reach})
			if len(res) != 2 || res[0].Status != tt.url || res[1].Status != tt.oauth {
				t.Fatalf("probe %+v, want url %s and oauth2 %s", res, tt.url, tt.oauth)
			}
			if tt.detail != "" && !strings.Contains(res[1].Detail, tt.detail) {
				t.Errorf("oauth2 detail %q, want %q", res[1].Detail, tt.detail)
			}
			if !tt.private && a.requests.Load() != tokens {
				t.Error("the probe reached a loopback token URL without allow_private")
			}
		})
	}
}
