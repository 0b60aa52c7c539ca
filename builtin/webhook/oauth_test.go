package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
)

// oauthAPI is a token endpoint and an API on one loopback server: the API
// takes only the newest token, so revoking one (issuing another) makes the
// next post get 401.
type oauthAPI struct {
	*httptest.Server
	secret   string
	issued   atomic.Int32
	requests atomic.Int32
	mu       sync.Mutex
	forms    []string
}

func newOAuthAPI(t *testing.T) *oauthAPI {
	t.Helper()
	a := &oauthAPI{secret: "s3cret"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		a.requests.Add(1)
		_ = r.ParseForm()
		a.mu.Lock()
		a.forms = append(a.forms, r.PostForm.Encode())
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if id, sec, _ := r.BasicAuth(); id != "client" || sec != a.secret {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, a.issued.Add(1))
	})
	mux.HandleFunc("POST /api", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != fmt.Sprintf("Bearer tok-%d", a.issued.Load()) {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"ok":true}`)
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

func configureOAuth(t *testing.T, a *oauthAPI, secret string, private bool, headers string) (*Connector, error) {
	t.Helper()
	hc := host.NewHTTPClient(host.HTTPOptions{AllowPrivate: private, Connection: "crm"})
	t.Cleanup(hc.CloseIdleConnections)
	c := &Connector{}
	err := c.Configure(context.Background(), &pluginsdk.Context{
		Connection: "crm",
		Config:     json.RawMessage(fmt.Sprintf(`{"url":%q%s}`, a.URL+"/api", headers)),
		Auth: pluginsdk.Auth{Type: pluginsdk.AuthOAuth2, TokenURL: a.URL + "/token", ClientID: "client",
			ClientSecret: secret, Scopes: []string{"crm.write"}},
		HTTP: hc,
	})
	return c, err
}

func postOnce(c *Connector) error {
	_, err := c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: ActionPost, Input: json.RawMessage(`{"body":{"n":1}}`)})
	return err
}

func TestOAuth2Post(t *testing.T) {
	a := newOAuthAPI(t)
	c, err := configureOAuth(t, a, "s3cret", true, "")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := postOnce(c); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := a.requests.Load(); n != 1 {
		t.Fatalf("token requests for 20 concurrent posts: %d, want 1", n)
	}
	a.issued.Add(1) // revoke tok-1
	if err := postOnce(c); err != nil {
		t.Fatalf("post after revocation: %v, want a refreshed token", err)
	}
	if n := a.requests.Load(); n != 2 {
		t.Errorf("token requests after a 401: %d, want 2", n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.forms[0] != "grant_type=client_credentials&scope=crm.write" {
		t.Errorf("token request form %q", a.forms[0])
	}
}

func TestOAuth2Refusals(t *testing.T) {
	a := newOAuthAPI(t)
	tests := []struct {
		name      string
		secret    string
		private   bool
		headers   string
		configErr string
		postErr   string
	}{
		{name: "bad secret", secret: "wrong", private: true,
			postErr: "invalid_client (Client authentication failed): the token endpoint refused the client credentials; check auth.client_id and auth.client_secret"},
		{name: "token URL behind the egress guard", secret: "s3cret", private: false,
			postErr: "set network.allow_private to reach it"},
		{name: "Authorization header in config", secret: "s3cret", private: true, headers: `,"headers":{"authorization":"Bearer x"}`,
			configErr: "config.headers sets Authorization"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := a.requests.Load()
			c, err := configureOAuth(t, a, tt.secret, tt.private, tt.headers)
			if tt.configErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.configErr) {
					t.Fatalf("configure: %v, want %q", err, tt.configErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			err = postOnce(c)
			e := pluginsdk.AsError(err)
			if err == nil || e.Retryable || !strings.Contains(e.Message, tt.postErr) {
				t.Fatalf("post: %v (retryable %v), want a permanent error with %q", err, e.Retryable, tt.postErr)
			}
			if strings.Contains(e.Message, tt.secret) && tt.secret != "" {
				t.Errorf("error quotes the client secret: %s", e.Message)
			}
			if !tt.private && a.requests.Load() != before {
				t.Error("the guarded token URL was reached")
			}
		})
	}
}

// An oauth2 connection authenticates outbound calls; it must never take
// pushes, whatever header a caller sends.
func TestOAuth2ConnectionReceivesNothing(t *testing.T) {
	a := newOAuthAPI(t)
	c, err := configureOAuth(t, a, "s3cret", true, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Receive(context.Background(), &pluginsdk.HTTPRequest{Method: "POST", Header: map[string][]string{"X-Api-Key": {"anything"}}, Body: []byte(`{}`)})
	if e := pluginsdk.AsError(err); err == nil || e.Status != http.StatusUnauthorized {
		t.Fatalf("receive on an oauth2 connection: %v, want 401", err)
	}
}
