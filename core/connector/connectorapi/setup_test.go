package connectorapi

import (
	"net/http/httptest"
	"testing"

	"github.com/junctionhub/junction/core/connector"
)

func TestSetupRoute(t *testing.T) {
	type setup struct {
		Setup connector.Setup
		Error struct{ Code string }
	}
	tests := []struct {
		name, publicURL, path string
		status                int
		text, from            string
		noStore               bool
	}{
		{"redacted", "", "/api/v1/connections/inbox/setup", 200, "http://hub.test/hooks/inbox key=<redacted> pin=<redacted>", "request", false},
		{"revealed", "", "/api/v1/connections/inbox/setup?reveal=true", 200, "http://hub.test/hooks/inbox key=s3cret pin=1234", "request", true},
		{"public_url", "https://hub.example.org", "/api/v1/connections/inbox/setup?reveal=0", 200, "https://hub.example.org/hooks/inbox key=<redacted> pin=<redacted>", "public_url", false},
		{"bad reveal", "", "/api/v1/connections/inbox/setup?reveal=please", 400, "", "", false},
		{"unknown", "", "/api/v1/connections/nope/setup", 404, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newApp(t, tt.publicURL)
			var out setup
			if code := get(t, app, tt.path, &out); code != tt.status {
				t.Fatalf("status %d, want %d (%+v)", code, tt.status, out)
			}
			if tt.status != 200 {
				if out.Error.Code == "" {
					t.Error("an error without a code")
				}
				return
			}
			s := out.Setup
			if len(s.Steps) != 1 || s.Steps[0].Text != tt.text || s.BaseFrom != tt.from || s.Connection != "inbox" {
				t.Errorf("setup %+v, want text %q from %s", s, tt.text, tt.from)
			}
			resp, err := app.Test(httptest.NewRequest("GET", "http://hub.test"+tt.path, nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Cache-Control") == "no-store"; got != tt.noStore {
				t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
			}
		})
	}
}
