package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSetupSection: a connection page shows its connector's setup steps
// with credentials redacted; the "Show credentials" form (session and CSRF
// token required) shows them, uncached; a connection that receives nothing
// says so.
func TestSetupSection(t *testing.T) {
	f := newFixture(t, nil)
	b := f.login()
	page := b.get("/connections/orders-in")
	mustContain(t, page.Body, `<h2 id="setup-h">Setup</h2>`, "<h3>Sender URL</h3>",
		"/hooks/orders-in?region=eu&amp;key=&lt;redacted&gt;", "Paste it in the sender.",
		`action="/connections/orders-in/setup#setup"`, "Show credentials", "set Settings <code>public_url</code>")
	if strings.Contains(page.Body, "hunter2") {
		t.Fatal("the setup section shows a credential before it is asked for")
	}

	tests := []struct {
		name   string
		form   url.Values
		csrf   bool
		status int
	}{
		{"no CSRF token", url.Values{}, false, http.StatusForbidden},
		{"with the token", nil, true, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp response
			if tt.csrf {
				resp = b.submit("/connections/orders-in/setup", tt.form)
			} else {
				resp = b.post("/connections/orders-in/setup", tt.form)
			}
			if resp.Status != tt.status {
				t.Fatalf("POST = %d, want %d", resp.Status, tt.status)
			}
			shown := strings.Contains(resp.Body, "key=hunter2")
			if shown != (tt.status == http.StatusOK) {
				t.Errorf("credential shown: %v", shown)
			}
			if tt.status == http.StatusOK && resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
			}
		})
	}
	if resp := f.anonymous().post("/connections/orders-in/setup", url.Values{}); resp.Status == http.StatusOK || strings.Contains(resp.Body, "hunter2") {
		t.Errorf("without a session: %d", resp.Status)
	}
	mustContain(t, b.get("/connections/crm-feed").Body, "receives nothing")
}
