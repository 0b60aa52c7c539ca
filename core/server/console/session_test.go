package console

import (
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLoginLogout(t *testing.T) {
	f := newFixture(t, nil)
	b := f.anonymous()

	page := b.get("/login?next=/workflows")
	if page.Status != http.StatusOK {
		t.Fatalf("GET /login = %d", page.Status)
	}
	mustContain(t, page.Body, `<label for="token">Admin token</label>`, `name="next" value="/workflows"`)
	loginCSRF := csrfIn(t, page.Body)

	bad := b.post("/login", url.Values{"token": {"wrong"}, "csrf": {loginCSRF}, "next": {"/workflows"}})
	if bad.Status != http.StatusUnauthorized {
		t.Fatalf("wrong token: status %d, want 401", bad.Status)
	}
	mustContain(t, bad.Body, "That is not the admin token.")
	if _, ok := b.cookies[sessionCookie]; ok {
		t.Fatal("a wrong token got a session cookie")
	}

	ok := b.post("/login", url.Values{"token": {testToken}, "csrf": {csrfIn(t, bad.Body)}, "next": {"/workflows"}})
	if ok.Status != http.StatusSeeOther || ok.Location != "/workflows" {
		t.Fatalf("login: %d to %q, want 303 to /workflows", ok.Status, ok.Location)
	}
	var cookie *http.Cookie
	for _, c := range ok.Cookies {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatal("login set no session cookie")
	}
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Secure {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/, not Secure over http", cookie)
	}
	if strings.Contains(ok.Body, testToken) {
		t.Error("the login answer echoes the admin token")
	}

	wf := b.get("/workflows")
	if wf.Status != http.StatusOK {
		t.Fatalf("GET /workflows = %d", wf.Status)
	}
	mustContain(t, wf.Body, "orders", "Log out")
	if strings.Contains(wf.Body, testToken) {
		t.Error("a console page shows the admin token")
	}
	b.csrf = csrfIn(t, wf.Body)

	out := b.submit("/logout", nil)
	if out.Status != http.StatusSeeOther || out.Location != "/login" {
		t.Fatalf("logout: %d to %q", out.Status, out.Location)
	}
	if after := b.get("/runs"); after.Status != http.StatusSeeOther {
		t.Fatalf("GET /runs after logout = %d, want a redirect to login", after.Status)
	}
}

func TestSecureCookieOverHTTPS(t *testing.T) {
	f := newFixture(t, nil)
	b := f.anonymous()
	page := b.get("/login")
	req := strings.NewReader(url.Values{"token": {testToken}, "csrf": {csrfIn(t, page.Body)}}.Encode())
	r, _ := http.NewRequest(http.MethodPost, "/login", req)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-Forwarded-Proto", "https")
	r.AddCookie(&http.Cookie{Name: loginCookie, Value: b.cookies[loginCookie]})
	resp := f.do(r)
	if resp.Status != http.StatusSeeOther {
		t.Fatalf("login = %d", resp.Status)
	}
	for _, c := range resp.Cookies {
		if c.Name == sessionCookie && !c.Secure {
			t.Error("session cookie over https is not Secure")
		}
	}
}

// Every console page redirects to the login form without a session, and
// comes back to the page after login.
func TestPagesRedirectToLogin(t *testing.T) {
	f := newFixture(t, nil)
	r := f.testRun(`{"kind":"order","id":"A-1"}`)
	pages := []string{
		"/", "/runs", "/runs?status=failed", "/runs/" + r.ID, "/workflows", "/workflows/orders",
		"/connections", "/connections/crm-feed", "/connections/crm-feed/json",
		"/connections/crm-feed/entities/Contact", "/connections/crm-feed/entities/Contact/fields/Email",
		"/plugins", "/directory", "/directory/contacts/c1", "/alerts",
	}
	for _, p := range pages {
		t.Run(p, func(t *testing.T) {
			for _, cookie := range []string{"", "forged-session-id"} {
				b := f.anonymous()
				if cookie != "" {
					b.cookies[sessionCookie] = cookie
				}
				resp := b.get(p)
				want := "/login?next=" + url.QueryEscape(p)
				if resp.Status != http.StatusSeeOther || resp.Location != want {
					t.Errorf("cookie %q: GET %s = %d to %q, want 303 to %q", cookie, p, resp.Status, resp.Location, want)
				}
			}
		})
	}
	// The API keeps its bearer token and never redirects.
	api := f.anonymous().get("/api/v1/runs")
	if api.Status != http.StatusUnauthorized {
		t.Errorf("GET /api/v1/runs without token = %d, want 401", api.Status)
	}
}

// Every form post without the session's CSRF token is refused, and does
// nothing.
func TestFormsNeedCSRF(t *testing.T) {
	f := newFixture(t, nil)
	failed := f.testRun(`{"kind":"order","id":"A-2","fail":true}`)
	posts := []struct {
		path string
		form url.Values
	}{
		{"/logout", nil},
		{"/runs/" + failed.ID + "/replay", nil},
		{"/workflows/orders/test", url.Values{"payload": {`{"kind":"order","id":"X"}`}}},
		{"/workflows/orders/capture", nil},
		{"/connections/crm-feed/fetch", nil},
		{"/connections/crm-feed/metadata", nil},
		{"/connections/crm-feed/reconnect", nil},
	}
	b := f.login()
	other := f.login()
	before := countRuns(t, f)
	for _, p := range posts {
		t.Run(p.path, func(t *testing.T) {
			cases := map[string]func() response{
				"no session": func() response {
					form := url.Values{"csrf": {b.csrf}}
					for k, v := range p.form {
						form[k] = v
					}
					return f.anonymous().post(p.path, form)
				},
				"no token": func() response { return b.post(p.path, p.form) },
				// fiber's FormValue would read it from the URL.
				"token in the query string": func() response {
					return b.post(p.path+"?csrf="+url.QueryEscape(b.csrf), p.form)
				},
				"wrong token": func() response {
					form := url.Values{"csrf": {"not-the-token"}}
					for k, v := range p.form {
						form[k] = v
					}
					return b.post(p.path, form)
				},
				"another session's token": func() response {
					form := url.Values{"csrf": {other.csrf}}
					for k, v := range p.form {
						form[k] = v
					}
					return b.post(p.path, form)
				},
			}
			for name, do := range cases {
				if resp := do(); resp.Status != http.StatusForbidden {
					t.Errorf("%s: POST %s = %d, want 403", name, p.path, resp.Status)
				}
			}
		})
	}
	if after := countRuns(t, f); after != before {
		t.Errorf("refused posts changed the runs: %d before, %d after", before, after)
	}
	// The session survived: logout was refused too.
	if resp := b.get("/runs"); resp.Status != http.StatusOK {
		t.Errorf("GET /runs after refused posts = %d", resp.Status)
	}
}

func countRuns(t *testing.T, f *fixture) int {
	t.Helper()
	counts, err := f.st.Runs().Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func TestLoginNeedsItsCSRFCookie(t *testing.T) {
	f := newFixture(t, nil)
	// A cross-site form cannot read the login cookie, so it cannot post a
	// matching token.
	resp := f.anonymous().post("/login", url.Values{"token": {testToken}, "csrf": {"guess"}})
	if resp.Status != http.StatusForbidden {
		t.Fatalf("login without the login cookie = %d, want 403", resp.Status)
	}
	b := f.anonymous()
	b.get("/login")
	resp = b.post("/login", url.Values{"token": {testToken}, "csrf": {"guess"}})
	if resp.Status != http.StatusForbidden {
		t.Fatalf("login with a wrong token field = %d, want 403", resp.Status)
	}
}

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"":                     "/runs",
		"/workflows/orders":    "/workflows/orders",
		"/runs?status=failed":  "/runs?status=failed",
		"//evil.example/x":     "/runs",
		"/\\evil.example":      "/runs",
		"https://evil.example": "/runs",
		"runs":                 "/runs",
		"/login":               "/runs",
		"/x\r\nSet-Cookie: a":  "/runs",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// A session outlives a restart (it is in the store too), and rotating the
// admin token ends it.
func TestSessionSurvivesRestartNotTokenRotation(t *testing.T) {
	f := newFixture(t, nil)
	b := f.login()

	again := fixtureOn(t, f.dir, f.st, f.bundle, nil)
	b.f = again
	if resp := b.get("/runs"); resp.Status != http.StatusOK {
		t.Fatalf("after restart: GET /runs = %d, want 200", resp.Status)
	}

	rotated := fixtureOn(t, f.dir, f.st, f.bundle, func(o *Options) { o.AdminTokenHash = sha256.Sum256([]byte("new-token")) })
	b.f = rotated
	if resp := b.get("/runs"); resp.Status != http.StatusSeeOther {
		t.Fatalf("after token rotation: GET /runs = %d, want a redirect to login", resp.Status)
	}
}

// TestLoginFailuresAreLimited: after loginFailures wrong tokens from one
// address the form answers 429, even to the right token, until the window
// ends; then the right token works again.
func TestLoginFailuresAreLimited(t *testing.T) {
	// The clock also sets the session cookie's expiry, which the test's
	// cookie jar checks against the real time: a fixed date would make the
	// test fail once that date has passed.
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFixture(t, func(o *Options) { o.Now = clock })
	b := f.anonymous()
	csrf := csrfIn(t, b.get("/login").Body)
	try := func(token string) response {
		t.Helper()
		r := b.post("/login", url.Values{"token": {token}, "csrf": {csrf}})
		if r.Status == http.StatusUnauthorized || r.Status == http.StatusTooManyRequests {
			csrf = csrfIn(t, r.Body)
		}
		return r
	}
	for i := range loginFailures {
		if r := try("wrong"); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, r.Status)
		}
	}
	r := try(testToken)
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("right token after %d failures: status %d, want 429", loginFailures, r.Status)
	}
	mustContain(t, r.Body, "Too many failed logins")
	if ra := r.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After = %q", ra)
	}
	if _, ok := b.cookies[sessionCookie]; ok {
		t.Fatal("a blocked login got a session cookie")
	}

	mu.Lock()
	now = now.Add(loginWindow)
	mu.Unlock()
	if r := try(testToken); r.Status != http.StatusSeeOther {
		t.Fatalf("right token after the window: status %d, want 303", r.Status)
	}
}
