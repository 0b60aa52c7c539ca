package console

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestCSRFTokenPlaces: the token counts in the posted form or the
// X-CSRF-Token header, never in the query string, and the login form's
// admin token likewise only in the form.
func TestCSRFTokenPlaces(t *testing.T) {
	f := newFixture(t, nil)
	tests := []struct {
		name   string
		query  bool
		header bool
		want   int
	}{
		{"query string", true, false, http.StatusForbidden},
		{"header", false, true, http.StatusSeeOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := f.login()
			path := "/logout"
			if tc.query {
				path += "?csrf=" + url.QueryEscape(b.csrf)
			}
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(""))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.header {
				req.Header.Set(csrfHeader, b.csrf)
			}
			for k, v := range b.cookies {
				req.AddCookie(&http.Cookie{Name: k, Value: v})
			}
			if resp := f.do(req); resp.Status != tc.want {
				t.Errorf("POST %s = %d, want %d", path, resp.Status, tc.want)
			}
		})
	}

	t.Run("admin token in the login URL", func(t *testing.T) {
		b := f.anonymous()
		page := b.get("/login")
		resp := b.post("/login?token="+url.QueryEscape(testToken), url.Values{"csrf": {csrfIn(t, page.Body)}})
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("POST /login?token=… = %d, want 401", resp.Status)
		}
	})
}
