package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// marketoFake is a small Marketo on loopback for the built binary: the
// identity endpoint, the activity stream with paging tokens, lead lookup,
// createOrUpdate and campaign triggers, answering with the documented
// shapes (plugins/marketo/testdata has the fixtures; its unit tests cover
// the error codes).
type marketoFake struct {
	srv *httptest.Server

	mu         sync.Mutex
	tokens     int
	activities []map[string]any
	calls      map[string][][]byte // "METHOD path" -> request bodies
}

func newMarketoFake(t *testing.T) *marketoFake {
	f := &marketoFake{calls: map[string][][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// addActivities appends n web-page visits (type 1) of lead 50 and one New
// Lead (type 12) of lead 50, dated now.
func (f *marketoFake) addActivities(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := 0; i <= n; i++ {
		typ := 1
		if i == n {
			typ = 12
		}
		id := 5000 + len(f.activities)
		f.activities = append(f.activities, map[string]any{
			"id": id, "marketoGUID": strconv.Itoa(id), "leadId": 50, "activityTypeId": typ,
			"activityDate": time.Now().UTC().Format(time.RFC3339), "primaryAttributeValue": "localhost/page.html",
		})
	}
}

func (f *marketoFake) bodies(key string) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func (f *marketoFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	reply := func(v any) { _ = json.NewEncoder(w).Encode(v) }
	if r.URL.Path == "/identity/oauth/token" {
		f.tokens++
		if r.URL.Query().Get("client_secret") != "e2e-secret" {
			w.WriteHeader(401)
			reply(map[string]any{"error": "unauthorized", "error_description": "Bad client credentials"})
			return
		}
		reply(map[string]any{"access_token": fmt.Sprintf("e2e-token-%d:int", f.tokens), "token_type": "bearer", "expires_in": 3599, "scope": "api@example.com"})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer e2e-token-") {
		reply(map[string]any{"success": false, "errors": []any{map[string]any{"code": "601", "message": "Access token invalid"}}})
		return
	}
	key := r.Method + " " + r.URL.Path
	f.calls[key] = append(f.calls[key], body)
	q := r.URL.Query()
	switch key {
	case "GET /rest/v1/activities/pagingtoken.json":
		reply(map[string]any{"success": true, "nextPageToken": "PT0"})
	case "GET /rest/v1/activities.json":
		pos, _ := strconv.Atoi(strings.TrimPrefix(q.Get("nextPageToken"), "PT"))
		batch, _ := strconv.Atoi(q.Get("batchSize"))
		types := "," + q.Get("activityTypeIds") + ","
		end := min(pos+batch, len(f.activities))
		result := []any{}
		for _, a := range f.activities[pos:end] {
			if strings.Contains(types, fmt.Sprintf(",%d,", a["activityTypeId"])) {
				result = append(result, a)
			}
		}
		reply(map[string]any{"success": true, "result": result, "nextPageToken": fmt.Sprintf("PT%d", end), "moreResult": end < len(f.activities)})
	case "GET /rest/v1/leads.json":
		reply(map[string]any{"success": true, "result": []any{map[string]any{
			"id": 50, "email": "anna.rossi@example.com", "firstName": "Anna", "updatedAt": "2026-03-02T10:21:00Z"}}})
	case "GET /rest/v1/leads/describe.json":
		reply(map[string]any{"success": true, "result": []any{}})
	case "POST /rest/v1/leads.json":
		reply(map[string]any{"success": true, "result": []any{map[string]any{"id": 50, "status": "updated"}}})
	case "POST /rest/v1/campaigns/1001/trigger.json":
		reply(map[string]any{"success": true, "result": []any{map[string]any{"id": 1001}}})
	default:
		w.WriteHeader(404)
		reply(map[string]any{"message": "no route " + key})
	}
}

// TestMarketoPlugin runs configs/marketo.yaml in the built binary with the
// Wasm plugin installed, against a fake Marketo: an identify event upserts
// the lead and triggers the campaign with the lead id and a token; manual
// fetches page through activities and leads, resume after a restart, and
// feed the data overview.
func TestMarketoPlugin(t *testing.T) {
	fake := newMarketoFake(t)
	fake.addActivities(4) // 4 visits + 1 new lead
	src, err := os.ReadFile(filepath.Join("..", "configs", "marketo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The fake is on loopback: allow it, as an operator would for an
	// on-premises endpoint. Small pages make the fetch take several calls.
	cfg := strings.Replace(string(src), "  connector: marketo\n",
		"  connector: marketo\n  network: {allow_hosts: [127.0.0.1], allow_private: true}\n", 1)
	cfg = strings.Replace(cfg, "    since: 24h", "    since: 24h\n    batch_size: 2", 1)
	if cfg == string(src) || !strings.Contains(cfg, "batch_size: 2") {
		t.Fatal("configs/marketo.yaml changed shape; update this test's edits")
	}
	configs := t.TempDir()
	writeFile(t, filepath.Join(configs, "marketo.yaml"), cfg)
	data := t.TempDir()
	installPlugin(t, data, "marketo")
	env := map[string]string{
		"MARKETO_BASE_URL": fake.srv.URL, "MARKETO_CLIENT_ID": "e2e-client", "MARKETO_CLIENT_SECRET": "e2e-secret",
		"MARKETO_CAMPAIGN_ID": "1001", "MARKETO_LEADS_API_KEY": "e2e-leads-key",
	}
	h := startHub(t, configs, data, env, "")

	// Outbound: identify → upsert_lead → add_lead_to_campaign.
	identify := `{"type": "identify", "userId": "u-50", "messageId": "m-1",
		"traits": {"email": "anna.rossi@example.com", "firstName": "Anna", "lastName": "Rossi"}}`
	req, _ := http.NewRequest("POST", h.URL+"/hooks/marketo-leads-in", strings.NewReader(identify))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", "e2e-leads-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST /hooks/marketo-leads-in: %d", resp.StatusCode)
	}
	var runs struct {
		Runs []struct {
			ID, Status, Error string
		}
	}
	waitFor(t, 30*time.Second, "the add-to-campaign run to finish", func() bool {
		h.api("GET", "/runs?workflow=marketo-add-to-campaign", nil, &runs)
		return len(runs.Runs) == 1 && (runs.Runs[0].Status == "completed" || runs.Runs[0].Status == "failed")
	})
	if runs.Runs[0].Status != "completed" {
		t.Fatalf("run %s: %s\n%s", runs.Runs[0].Status, runs.Runs[0].Error, lastLines(h.out.String(), 20))
	}
	upserts := fake.bodies("POST /rest/v1/leads.json")
	if len(upserts) != 1 || !bytes.Contains(upserts[0], []byte(`"lookupField":"email"`)) ||
		!bytes.Contains(upserts[0], []byte(`"email":"anna.rossi@example.com"`)) || bytes.Contains(upserts[0], []byte("company")) {
		t.Errorf("upsert bodies %q, want Anna by email without the null company", upserts)
	}
	triggers := fake.bodies("POST /rest/v1/campaigns/1001/trigger.json")
	want := `{"input":{"leads":[{"id":50}],"tokens":[{"name":"{{my.survey_link}}","value":"https://surveys.example.com/jfe/form/SV_demo"}]}}`
	if len(triggers) != 1 || string(triggers[0]) != want {
		t.Errorf("trigger bodies %q, want %s", triggers, want)
	}

	// Inbound: a manual fetch pages through both entities.
	out, code := junctionCLI(t, h, "connection", "fetch", "marketo")
	if code != 0 || !strings.Contains(out, "completed: 6 records") { // 5 activities + 1 lead
		t.Fatalf("connection fetch (exit %d):\n%s", code, out)
	}
	if n := len(fake.bodies("GET /rest/v1/activities.json")); n < 6 {
		t.Errorf("%d activities pages read, want one per 2 records of each entity", n)
	}
	out, code = junctionCLI(t, h, "connection", "fetch", "marketo")
	if code != 0 || !strings.Contains(out, "completed: 0 records") {
		t.Fatalf("second fetch (exit %d), want nothing new:\n%s", code, out)
	}

	// Restart: the cursors survive; only what happened since is read.
	h.Stop()
	fake.addActivities(1) // 1 visit + 1 new lead
	h = startHub(t, configs, data, env, "")
	out, code = junctionCLI(t, h, "connection", "fetch", "marketo")
	// 2 activities; the lead is read again but unchanged (same updatedAt),
	// so its dedup key drops it.
	if code != 0 || !strings.Contains(out, "completed: 2 records") {
		t.Fatalf("fetch after restart (exit %d):\n%s", code, out)
	}
	if n := len(fake.bodies("GET /rest/v1/activities/pagingtoken.json")); n != 2 {
		t.Errorf("%d paging-token requests, want 2 (one per entity, first fetch only)", n)
	}
	out, code = junctionCLI(t, h, "connection", "stats", "marketo")
	if code != 0 || !strings.Contains(out, "in 2 entities") {
		t.Errorf("connection stats (exit %d):\n%s", code, out)
	}
}
