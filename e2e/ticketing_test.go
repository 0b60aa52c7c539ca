package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// helpDeskAPI is a loopback help desk: it records each note posted and
// answers with its id, as plugins/ticketing expects.
type helpDeskAPI struct {
	mu    sync.Mutex
	notes []*http.Request
	jsons []string
}

func (a *helpDeskAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	a.mu.Lock()
	a.notes = append(a.notes, r)
	a.jsons = append(a.jsons, string(b))
	a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write([]byte(`{"id":"N-1"}`))
}

// TestTicketingGuideRun is the guide's step 10 against the built binary:
// the ticketing plugin built to Wasm and installed, a signed help-desk
// delivery posted to its hook, and the workflow's add_note performed
// against a loopback help desk, once, with the API token as a bearer token;
// unsigned and forged deliveries are refused, and the signing secret never
// shows in the connection's config.
func TestTicketingGuideRun(t *testing.T) {
	api := &helpDeskAPI{}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	data := t.TempDir()
	installPluginAs(t, data, "ticketing", "wasm")

	cfg := t.TempDir()
	sample, err := os.ReadFile(filepath.Join("..", "plugins", "ticketing", "sample.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The sample as shipped, pointed at the loopback help desk.
	hub := strings.NewReplacer(
		"https://acme.example.com/api/v2", "${API_URL}",
		"allow_hosts: [acme.example.com]}", "allow_hosts: [\"${API_HOST}\"], allow_private: true}",
	).Replace(string(sample))
	if hub == string(sample) || !strings.Contains(hub, "allow_private: true") {
		t.Fatal("sample.yaml changed: update the replacements of this test")
	}
	writeFile(t, filepath.Join(cfg, "ticketing.yaml"), hub)
	const secret = "whsec-e2e"
	h := startHub(t, cfg, data, map[string]string{
		"HELPDESK_API_TOKEN": "tok-e2e", "HELPDESK_WEBHOOK_SECRET": secret,
		"API_URL": srv.URL + "/api/v2", "API_HOST": hostOf(t, srv.URL),
	}, "")

	body, err := os.ReadFile(filepath.Join("..", "plugins", "ticketing", "testdata", "ticket-created.json"))
	if err != nil {
		t.Fatal(err)
	}
	body = bytes.TrimSpace(body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	good := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	for _, c := range []struct {
		name, sig string
		want      int
	}{
		{"unsigned", "", http.StatusUnauthorized},
		{"forged", "sha256=" + strings.Repeat("0", 64), http.StatusUnauthorized},
		{"signed", good, http.StatusOK},
	} {
		req, _ := http.NewRequest("POST", h.URL+"/hooks/help-desk", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if c.sig != "" {
			req.Header.Set("X-Ticketing-Signature", c.sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Fatalf("%s delivery: %d %s, want %d", c.name, resp.StatusCode, b, c.want)
		}
	}

	var run runView
	waitFor(t, 60*time.Second, "the add_note run to complete", func() bool {
		runs := allRuns(h, url.Values{"workflow": {"acknowledge-new-tickets"}})
		// Only a final status ends the wait: queued, running and
		// retrying are all on the way.
		if len(runs) == 1 && (runs[0].Status == "completed" || runs[0].Status == "failed") {
			run = runs[0]
			return true
		}
		return false
	})
	if run.Status != "completed" || len(run.Tasks) != 1 {
		t.Fatalf("run %s: %s, tasks %+v", run.ID, run.Status, run.Tasks)
	}
	if got := string(run.Tasks[0].Output); got != `{"note_id":"N-1","ticket_id":"T-1042"}` {
		t.Errorf("add_note output %s", got)
	}
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.notes) != 1 {
		t.Fatalf("the help desk got %d notes, want 1", len(api.notes))
	}
	r := api.notes[0]
	if r.URL.Path != "/api/v2/tickets/T-1042/notes" || r.Header.Get("Authorization") != "Bearer tok-e2e" || r.Header.Get("Idempotency-Key") == "" {
		t.Errorf("note request %s, headers %v", r.URL.Path, r.Header)
	}
	if want := `{"body":"Logged by Junction: Cannot log in (from ada@example.com)","public":false}`; api.jsons[0] != want {
		t.Errorf("note %s, want %s", api.jsons[0], want)
	}

	var got struct {
		Connection struct {
			Config map[string]any `json:"config"`
		} `json:"connection"`
	}
	if code := h.api("GET", "/connections/help-desk", nil, &got); code != http.StatusOK {
		t.Fatalf("GET connection: %d", code)
	}
	if v := got.Connection.Config["signing_secret"]; v != "<redacted>" {
		t.Errorf("signing_secret shown as %v", v)
	}
	if strings.Contains(h.out.String(), secret) || strings.Contains(h.out.String(), "tok-e2e") {
		t.Error("the hub's log shows a credential")
	}
}
