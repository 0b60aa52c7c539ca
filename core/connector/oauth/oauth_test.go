package oauth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
)

// tokenServer issues tok-1, tok-2, ... and serves /api, which accepts only
// the newest token.
type tokenServer struct {
	*httptest.Server
	issued  atomic.Int32
	status  atomic.Int32 // answer token requests with this status when non-zero
	expires string       // expires_in as JSON
	mu      sync.Mutex
	forms   []url.Values
	basic   [][2]string
}

func newTokenServer(t *testing.T, expires string) *tokenServer {
	t.Helper()
	ts := &tokenServer{expires: expires}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		u, p, _ := r.BasicAuth()
		ts.mu.Lock()
		ts.forms = append(ts.forms, r.PostForm)
		ts.basic = append(ts.basic, [2]string{u, p})
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if s := ts.status.Load(); s != 0 {
			w.WriteHeader(int(s))
			fmt.Fprint(w, `{"error":"invalid_client","error_description":"bad secret"}`)
			return
		}
		n := ts.issued.Add(1)
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":%s}`, n, ts.expires)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != fmt.Sprintf("Bearer tok-%d", ts.issued.Load()) {
			w.WriteHeader(401)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	ts.Server = httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func client(t *testing.T) *host.HTTPClient {
	t.Helper()
	c := host.NewHTTPClient(host.HTTPOptions{AllowPrivate: true, Connection: "test"})
	t.Cleanup(c.CloseIdleConnections)
	return c
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestTokenCachedUntilExpiry(t *testing.T) {
	ts := newTokenServer(t, "3600")
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src, err := New(client(t), Config{TokenURL: ts.URL + "/token", ClientID: "id:1", ClientSecret: "s&cret", Scopes: []string{"read", "write"}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "tok-1"},
		{30 * time.Minute, "tok-1"},
		{28 * time.Minute, "tok-1"}, // 58m: still before expiry minus 60s
		{90 * time.Second, "tok-2"}, // 59m30s: inside the margin
	}
	for _, s := range steps {
		clk.add(s.advance)
		got, err := src.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got != s.want {
			t.Fatalf("after %s: token %s, want %s", s.advance, got, s.want)
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if f := ts.forms[0]; f.Get("grant_type") != "client_credentials" || f.Get("scope") != "read write" || f.Get("client_secret") != "" {
		t.Errorf("token request form %v", f)
	}
	// RFC 6749 2.3.1: form-encoded, then Basic; Go's server decodes Basic only.
	if ts.basic[0] != [2]string{"id%3A1", "s%26cret"} {
		t.Errorf("basic credentials %q", ts.basic[0])
	}
}

func TestAudienceAndStringExpiry(t *testing.T) {
	ts := newTokenServer(t, `"120"`)
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src, err := New(client(t), Config{TokenURL: ts.URL + "/token", ClientID: "id", ClientSecret: "sec", Audience: "https://api.example.com", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := src.Token(context.Background()); tok != "tok-1" {
		t.Fatalf("token %s", tok)
	}
	clk.add(107 * time.Second) // margin is a tenth of 120s
	if tok, _ := src.Token(context.Background()); tok != "tok-1" {
		t.Fatalf("token %s before margin", tok)
	}
	clk.add(2 * time.Second)
	if tok, _ := src.Token(context.Background()); tok != "tok-2" {
		t.Fatalf("token %s after margin, want refresh", tok)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if f := ts.forms[0]; f.Get("audience") != "https://api.example.com" || f.Get("client_secret") != "" || ts.basic[0] != [2]string{"id", "sec"} {
		t.Errorf("audience: form %v basic %q", f, ts.basic[0])
	}
}

func TestDoRefreshesOn401(t *testing.T) {
	ts := newTokenServer(t, "3600")
	c := client(t)
	src, err := FromAuth(c, pluginsdk.Auth{Type: pluginsdk.AuthOAuth2, TokenURL: ts.URL + "/token", ClientID: "id", ClientSecret: "sec"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := src.Token(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err := src.Do(ctx, c, &pluginsdk.HTTPRequest{Method: "GET", URL: ts.URL + "/api"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("first call: %v %+v", err, resp)
	}
	// Revoke tok-1: the API now accepts only tok-2, which another client got.
	ts.issued.Add(1)
	resp, err = src.Do(ctx, c, &pluginsdk.HTTPRequest{Method: "GET", URL: ts.URL + "/api"})
	if err != nil || resp.Status != 200 {
		t.Fatalf("after revocation: %v %+v, want a refreshed token and 200", err, resp)
	}
	if n := ts.issued.Load(); n != 3 {
		t.Errorf("tokens issued %d, want 3", n)
	}
}

func TestConcurrentCallersShareOneRequest(t *testing.T) {
	ts := newTokenServer(t, "3600")
	src, err := New(client(t), Config{TokenURL: ts.URL + "/token", ClientID: "id", ClientSecret: "sec"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := src.Token(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := ts.issued.Load(); n != 1 {
		t.Errorf("token requests %d, want 1", n)
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		status    int32
		retryable bool
	}{
		{401, false},
		{400, false},
		{503, true},
		{429, true},
	}
	// invalid_client is named with what to fix, and the secret never shows.
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			ts := newTokenServer(t, "3600")
			ts.status.Store(tt.status)
			src, _ := New(client(t), Config{TokenURL: ts.URL + "/token", ClientID: "id", ClientSecret: "sec"})
			_, err := src.Token(context.Background())
			e := pluginsdk.AsError(err)
			if err == nil || e.Retryable != tt.retryable {
				t.Fatalf("err %v retryable %v, want retryable %v", err, e.Retryable, tt.retryable)
			}
			if !strings.Contains(e.Message, "invalid_client (bad secret)") || !strings.Contains(e.Message, fmt.Sprintf("HTTP %d", tt.status)) {
				t.Errorf("message %q does not carry the server's error", e.Message)
			}
			if !strings.Contains(e.Message, "check auth.client_id and auth.client_secret") || e.Code != "oauth_invalid_client" || strings.Contains(e.Message, "sec\"") {
				t.Errorf("code %q message %q: want oauth_invalid_client, a hint and no secret", e.Code, e.Message)
			}
		})
	}
	if _, err := New(client(t), Config{TokenURL: "ftp://x", ClientID: "a", ClientSecret: "b"}); err == nil {
		t.Error("ftp token URL accepted")
	}
	// The guard applies: without AllowPrivate the loopback token URL is refused.
	ts := newTokenServer(t, "3600")
	guarded := host.NewHTTPClient(host.HTTPOptions{Connection: "test"})
	src, _ := New(guarded, Config{TokenURL: ts.URL + "/token", ClientID: "id", ClientSecret: "sec"})
	if _, err := src.Token(context.Background()); err == nil || ts.issued.Load() != 0 {
		t.Errorf("loopback token URL reached through a guarded client: %v", err)
	}
}

// TestWaiterGivesUpWithItsOwnContext: a caller whose context ends stops
// waiting for a slow token request, which still completes for the others.
func TestWaiterGivesUpWithItsOwnContext(t *testing.T) {
	release := make(chan struct{})
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		<-release
		fmt.Fprint(w, `{"access_token":"slow","token_type":"bearer","expires_in":3600}`)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	src, err := New(client(t), Config{TokenURL: srv.URL, ClientID: "id", ClientSecret: "sec"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		tok, _ := src.Token(context.Background())
		got <- tok
	}()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := src.Token(ctx); err == nil || !pluginsdk.AsError(err).Retryable {
		t.Fatalf("cancelled waiter: %v, want a retryable error", err)
	}
	release <- struct{}{}
	if tok := <-got; tok != "slow" {
		t.Fatalf("patient caller got %q", tok)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("token requests %d, want 1", n)
	}
}
