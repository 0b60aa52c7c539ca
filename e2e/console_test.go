package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// consoleConfig is the hub of the console tests: orders posted to
// orders-in are delivered to a sink, one attempt per run.
const consoleConfig = `apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: "${ORDERS_API_KEY}"}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sink-out}
spec:
  connector: webhook
  network: {allow_private: true}
  config: {url: "${SINK_URL}", timeout: 5s}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders-to-sink}
spec:
  description: Deliver orders to the sink
  trigger: {connection: orders-in}
  filter:
    - {path: $.kind, op: eq, value: order}
  fields:
    order: {path: $.id, type: string}
    total: {path: $.total, type: number}
  tasks:
    - name: deliver
      uses: sink-out.post
      retry: {max_attempts: 1}
      with:
        body: {order: "{{ .fields.order }}", total: "{{ .fields.total }}"}
`

// rejectingSink answers 400 (a permanent failure: no retry) the first time
// it sees an order whose ID starts with "BAD", and 201 otherwise, so a
// replay of the failed run succeeds.
type rejectingSink struct {
	URL string
	mu  sync.Mutex
	bad map[string]bool
}

func newRejectingSink(t *testing.T) *rejectingSink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rejectingSink{URL: "http://" + ln.Addr().String() + "/deliver", bad: map[string]bool{}}
	srv := &http.Server{Handler: http.HandlerFunc(s.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

var orderRE = regexp.MustCompile(`"order":"([^"]*)"`)

func (s *rejectingSink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	order := ""
	if m := orderRE.FindSubmatch(body); m != nil {
		order = string(m[1])
	}
	s.mu.Lock()
	reject := strings.HasPrefix(order, "BAD") && !s.bad[order]
	s.bad[order] = true
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if reject {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"order %s is not valid"}`, order)
		return
	}
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"received":%q}`, order)
}

// consoleHub starts a hub, posts a failing and a succeeding order, and
// waits until both runs are finished. It returns the hub and the two runs.
func consoleHub(t *testing.T) (h *hubProc, failed, completed runView) {
	t.Helper()
	sink := newRejectingSink(t)
	cfg := t.TempDir()
	if err := os.WriteFile(filepath.Join(cfg, "hub.yaml"), []byte(consoleConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	h = startHub(t, cfg, t.TempDir(), map[string]string{"ORDERS_API_KEY": "k-orders", "SINK_URL": sink.URL}, "")
	if code, _, _ := fetchPage(t, consoleClient(t), "GET", h.URL+"/login", nil); code != http.StatusOK {
		t.Fatalf("GET /login = %d: the console is not mounted (hub.Open passes the console as server.Options.Console)", code)
	}
	for _, body := range []string{`{"kind":"order","id":"BAD-1","total":13}`, `{"kind":"order","id":"OK-1","total":42.5}`} {
		if code, resp := postEvent(t, h.URL, "k-orders", []byte(body)); code != http.StatusAccepted {
			t.Fatalf("post %s: %d %s", body, code, resp)
		}
	}
	waitFor(t, 30*time.Second, "a failed and a completed run", func() bool {
		failed, completed = runView{}, runView{}
		for _, r := range allRuns(h, url.Values{"workflow": {"orders-to-sink"}}) {
			switch r.Status {
			case "failed":
				failed = r
			case "completed":
				completed = r
			}
		}
		return failed.ID != "" && completed.ID != ""
	})
	return h, failed, completed
}

// consoleClient is a cookie-keeping HTTP client that does not follow
// redirects, so a test sees each answer.
func consoleClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 90 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

func fetchPage(t *testing.T, c *http.Client, method, u string, form url.Values) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var csrfFieldRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func pageCSRF(t *testing.T, page string) string {
	t.Helper()
	m := csrfFieldRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in:\n%s", page)
	}
	return m[1]
}

// consoleLogin logs a client in through the form and returns the session's
// CSRF token.
func consoleLogin(t *testing.T, h *hubProc, c *http.Client) string {
	t.Helper()
	code, page, _ := fetchPage(t, c, "GET", h.URL+"/login", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /login = %d", code)
	}
	code, _, hdr := fetchPage(t, c, "POST", h.URL+"/login", url.Values{"token": {h.Token}, "csrf": {pageCSRF(t, page)}})
	if code != http.StatusSeeOther {
		t.Fatalf("POST /login = %d", code)
	}
	if sc := hdr.Values("Set-Cookie"); !strings.Contains(strings.Join(sc, "\n"), "junction_session=") ||
		!strings.Contains(strings.ToLower(strings.Join(sc, "\n")), "httponly") {
		t.Fatalf("login cookies %q: want an HttpOnly junction_session", sc)
	}
	code, page, _ = fetchPage(t, c, "GET", h.URL+"/runs", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /runs after login = %d", code)
	}
	return pageCSRF(t, page)
}

// TestConsoleAuth checks the built binary: without a session every console
// page redirects to the login form, and every form post without the
// session's CSRF token is refused and changes nothing.
func TestConsoleAuth(t *testing.T) {
	h, failed, _ := consoleHub(t)

	pages := []string{"/", "/runs", "/runs?status=failed", "/runs/" + failed.ID, "/workflows", "/workflows/orders-to-sink",
		"/connections", "/connections/orders-in", "/connections/orders-in/json", "/plugins", "/directory", "/alerts"}
	anon := consoleClient(t)
	for _, p := range pages {
		code, _, hdr := fetchPage(t, anon, "GET", h.URL+p, nil)
		if want := "/login?next=" + url.QueryEscape(p); code != http.StatusSeeOther || hdr.Get("Location") != want {
			t.Errorf("GET %s without a session = %d to %q, want 303 to %q", p, code, hdr.Get("Location"), want)
		}
	}

	c := consoleClient(t)
	csrf := consoleLogin(t, h, c)
	for _, p := range pages {
		if code, _, _ := fetchPage(t, c, "GET", h.URL+p, nil); code != http.StatusOK && !(p == "/" && code == http.StatusSeeOther) {
			t.Errorf("GET %s logged in = %d", p, code)
		}
	}

	before := len(allRuns(h, url.Values{}))
	posts := []struct {
		path string
		form url.Values
	}{
		{"/runs/" + failed.ID + "/replay", url.Values{}},
		{"/workflows/orders-to-sink/test", url.Values{"payload": {`{"kind":"order","id":"CSRF-1"}`}}},
		{"/workflows/orders-to-sink/capture", url.Values{}},
		{"/connections/orders-in/reconnect", url.Values{}},
		{"/logout", url.Values{}},
	}
	for _, p := range posts {
		withToken := func(tok string) url.Values {
			f := url.Values{}
			for k, v := range p.form {
				f[k] = v
			}
			if tok != "" {
				f.Set("csrf", tok)
			}
			return f
		}
		for name, try := range map[string]func() int{
			"no session": func() int {
				code, _, _ := fetchPage(t, consoleClient(t), "POST", h.URL+p.path, withToken(csrf))
				return code
			},
			"no token":    func() int { code, _, _ := fetchPage(t, c, "POST", h.URL+p.path, withToken("")); return code },
			"wrong token": func() int { code, _, _ := fetchPage(t, c, "POST", h.URL+p.path, withToken(csrf+"x")); return code },
		} {
			if code := try(); code != http.StatusForbidden {
				t.Errorf("POST %s (%s) = %d, want 403", p.path, name, code)
			}
		}
	}
	if after := len(allRuns(h, url.Values{})); after != before {
		t.Errorf("refused posts changed the runs: %d before, %d after", before, after)
	}

	// With the token the same replay goes through.
	code, _, hdr := fetchPage(t, c, "POST", h.URL+"/runs/"+failed.ID+"/replay", url.Values{"csrf": {csrf}})
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/runs/run_") {
		t.Fatalf("replay with the token = %d to %q", code, hdr.Get("Location"))
	}
}
