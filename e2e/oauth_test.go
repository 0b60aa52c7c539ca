package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// oauthServer is a loopback OAuth 2.0 token endpoint (client credentials)
// and an API that takes only the newest token it issued.
type oauthServer struct {
	URL      string
	tokens   atomic.Int32 // token requests answered with a token
	refused  atomic.Int32 // token requests refused (bad client)
	mu       sync.Mutex
	accepted int
	rejected int
}

func newOAuthServer(t *testing.T, clientID, secret string) *oauthServer {
	t.Helper()
	s := &oauthServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		id, sec, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("grant_type") != "client_credentials" || id != clientID || sec != secret {
			s.refused.Add(1)
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"e2e-tok-%d","token_type":"Bearer","expires_in":3600}`, s.tokens.Add(1))
	})
	mux.HandleFunc("POST /api/orders", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.Header.Get("Authorization") != fmt.Sprintf("Bearer e2e-tok-%d", s.tokens.Load()) {
			s.rejected++
			w.WriteHeader(401)
			return
		}
		s.accepted++
		w.WriteHeader(201)
		io.WriteString(w, `{"ok":true}`)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.URL = "http://" + ln.Addr().String()
	return s
}

// revoke makes the API refuse every token issued so far, as a server that
// rotated its keys would: the next post gets 401.
func (s *oauthServer) revoke() {
	s.mu.Lock()
	s.tokens.Add(1)
	s.mu.Unlock()
}

const oauthConfig = `apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: k-orders}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: api-out}
spec:
  connector: webhook
  network: {allow_private: true}
  auth:
    type: oauth2
    token_url: "${OAUTH_URL}/oauth/token"
    client_id: junction-e2e
    client_secret: "${OAUTH_SECRET}"
    scopes: [orders.write]
  config: {url: "${OAUTH_URL}/api/orders", timeout: 5s}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: bad-out}
spec:
  connector: webhook
  network: {allow_private: true}
  auth:
    type: oauth2
    token_url: "${OAUTH_URL}/oauth/token"
    client_id: junction-e2e
    client_secret: not-the-secret
  config: {url: "${OAUTH_URL}/api/orders", timeout: 5s}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders-to-api}
spec:
  trigger: {connection: orders-in}
  filter:
    - {path: $.kind, op: eq, value: order}
  tasks:
    - name: deliver
      uses: api-out.post
      with:
        body: {n: "{{ .event.n }}"}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: bad-client}
spec:
  trigger: {connection: orders-in}
  filter:
    - {path: $.kind, op: eq, value: bad}
  tasks:
    - name: deliver
      uses: bad-out.post
      with:
        body: {n: "{{ .event.n }}"}
`

// TestOAuthClientCredentials: 100 posts through an oauth2 webhook
// connection make one token request; a post answered 401 (token revoked)
// gets a fresh token and succeeds in the same attempt; a wrong client
// secret fails the run at once with the token endpoint's error.
func TestOAuthClientCredentials(t *testing.T) {
	const secret = "e2e-client-secret"
	api := newOAuthServer(t, "junction-e2e", secret)
	cfg := t.TempDir()
	writeFile(t, cfg+"/hub.yaml", oauthConfig)
	h := startHub(t, cfg, t.TempDir(), map[string]string{"OAUTH_URL": api.URL, "OAUTH_SECRET": secret}, "")

	const n = 100
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := postEvent(t, h.URL, "k-orders", fmt.Appendf(nil, `{"kind":"order","n":%d}`, i)); code != 202 {
				t.Errorf("post %d: %d %s", i, code, body)
			}
		}()
	}
	wg.Wait()
	completed := func(want int) {
		t.Helper()
		waitFor(t, 60*time.Second, fmt.Sprintf("%d completed runs", want), func() bool {
			return len(allRuns(h, url.Values{"workflow": {"orders-to-api"}, "status": {"completed"}})) == want
		})
	}
	completed(n)
	if got := api.tokens.Load(); got != 1 {
		t.Fatalf("token requests for %d posts: %d, want 1", n, got)
	}

	api.revoke()
	if code, body := postEvent(t, h.URL, "k-orders", []byte(`{"kind":"order","n":101}`)); code != 202 {
		t.Fatalf("post after revocation: %d %s", code, body)
	}
	completed(n + 1)
	if got := api.tokens.Load(); got != 3 { // 1, the revocation's bump, and the refresh
		t.Errorf("token counter after a 401: %d, want one refresh", got-2)
	}
	runs := allRuns(h, url.Values{"workflow": {"orders-to-api"}, "status": {"completed"}})
	if a := runs[0].Tasks[0].Attempts; a != 1 {
		t.Errorf("the post answered 401 took %d attempts, want 1 (refreshed inside the attempt)", a)
	}
	api.mu.Lock()
	accepted, rejected := api.accepted, api.rejected
	api.mu.Unlock()
	if accepted != n+1 || rejected != 1 {
		t.Errorf("API saw %d accepted and %d rejected posts, want %d and 1", accepted, rejected, n+1)
	}

	if code, body := postEvent(t, h.URL, "k-orders", []byte(`{"kind":"bad","n":1}`)); code != 202 {
		t.Fatalf("post for the bad client: %d %s", code, body)
	}
	var failed []runView
	waitFor(t, 30*time.Second, "the bad-client run to fail", func() bool {
		failed = allRuns(h, url.Values{"workflow": {"bad-client"}, "status": {"failed"}})
		return len(failed) == 1
	})
	task := failed[0].Tasks[0]
	want := "oauth2 token request to " + api.URL + "/oauth/token: HTTP 401: invalid_client (Client authentication failed): " +
		"the token endpoint refused the client credentials; check auth.client_id and auth.client_secret"
	if task.Attempts != 1 || task.Error == nil || task.Error.Retryable || task.Error.Message != want {
		t.Errorf("bad client secret: attempts %d, error %+v; want one attempt, not retryable, %q", task.Attempts, task.Error, want)
	}
	if r := api.refused.Load(); r != 1 {
		t.Errorf("refused token requests %d, want 1 (no retry with the same bad secret)", r)
	}
	if out := h.out.String(); strings.Contains(out, secret) || strings.Contains(out, "not-the-secret") || strings.Contains(out, "e2e-tok-") {
		t.Errorf("the hub's output shows a client secret or a token:\n%s", lastLines(out, 20))
	}
}
