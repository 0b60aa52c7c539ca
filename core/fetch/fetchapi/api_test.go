package fetchapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/fetch/fetchtest"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

type apiFixture struct {
	app *fiber.App
	st  store.Store
	src *fetchtest.Source
	r   *fetch.Runner
}

func newAPIFixture(t *testing.T) *apiFixture {
	t.Helper()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 2500})
	conn := newConn(t, "files", src)
	r := newRunner(t, st, fetch.Options{BatchLimit: 1000}, conn)
	app := fiber.New()
	a := &API{Runner: r, Store: st, Logger: quiet,
		// What the connection manager does on a live reconnect.
		Reconfigure: func(ctx context.Context, name string, auth pluginsdk.Auth) error {
			return conn.Connector.Configure(ctx, &pluginsdk.Context{Connection: name, Auth: auth})
		},
		KeyRotated: func(ctx context.Context, name, key string) error {
			return conn.Connector.Configure(ctx, &pluginsdk.Context{Connection: name, Auth: pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: key}})
		}}
	a.Routes(app.Group("/api/v1"))
	return &apiFixture{app: app, st: st, src: src, r: r}
}

func (f *apiFixture) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// poll follows a job through the API until it ends, as the CLI does.
func (f *apiFixture) poll(t *testing.T, id string) fetch.Job {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var res struct{ Job fetch.Job }
		if code := f.call(t, "GET", "/api/v1/connections/files/jobs/"+id, "", &res); code != 200 {
			t.Fatalf("get job: %d", code)
		}
		if res.Job.Done() {
			return res.Job
		}
	}
	t.Fatal("job did not end")
	return fetch.Job{}
}

// TestReconnectKeepsCursor: the source starts rejecting the old secret; a
// fetch fails; reconnect with the new secret through the API; the next
// fetch continues from the cursor instead of starting over.
func TestReconnectKeepsCursor(t *testing.T) {
	f := newAPIFixture(t)
	f.src.Mu.Lock()
	f.src.FailAt = 2 // the first job stops after one batch
	f.src.Mu.Unlock()

	var started struct{ Job fetch.Job }
	if code := f.call(t, "POST", "/api/v1/connections/files/fetch", "", &started); code != 202 {
		t.Fatalf("start fetch: %d", code)
	}
	if job := f.poll(t, started.Job.ID); job.Status != fetch.StatusFailed || job.Records != 1000 {
		t.Fatalf("first job %+v", job)
	}
	f.src.Mu.Lock()
	f.src.Accept = "rotated-secret" // credentials rotated at the source
	f.src.Mu.Unlock()
	f.call(t, "POST", "/api/v1/connections/files/fetch", "", &started)
	if job := f.poll(t, started.Job.ID); job.Status != fetch.StatusFailed || !strings.Contains(job.Error, "credentials rejected") {
		t.Fatalf("job with old credentials %+v", job)
	}

	var errBody struct {
		Error struct{ Code, Message string }
	}
	if code := f.call(t, "POST", "/api/v1/connections/files/reconnect", `{"type":"basic","username":"u"}`, &errBody); code != 400 || !strings.Contains(errBody.Error.Message, "password") {
		t.Fatalf("incomplete auth: %d %+v", code, errBody)
	}
	var rec struct {
		Applied bool
	}
	if code := f.call(t, "POST", "/api/v1/connections/files/reconnect", `{"type":"api_key","secret":"rotated-secret"}`, &rec); code != 200 || !rec.Applied {
		t.Fatalf("reconnect: %d %+v", code, rec)
	}
	auth, ok, err := fetch.ReconnectAuth(context.Background(), f.st.Secrets(), "files")
	if err != nil || !ok || auth.Secret != "rotated-secret" || auth.Type != pluginsdk.AuthAPIKey {
		t.Fatalf("ReconnectAuth = %+v %v %v", auth, ok, err)
	}
	f.call(t, "POST", "/api/v1/connections/files/fetch", "", &started)
	job := f.poll(t, started.Job.ID)
	if job.Status != fetch.StatusCompleted || job.Records != 1500 {
		t.Fatalf("job after reconnect %+v: want the remaining 1500 records", job)
	}
	if got := f.src.CountLogged(context.Background(), "contacts"); got != 2500 {
		t.Errorf("log holds %d contacts, want 2500", got)
	}
	var list struct{ Jobs []fetch.Job }
	if code := f.call(t, "GET", "/api/v1/connections/files/jobs?limit=2", "", &list); code != 200 || len(list.Jobs) != 2 || list.Jobs[0].ID != job.ID {
		t.Fatalf("jobs: %d %+v", code, list)
	}
}

func TestFetchAPIErrors(t *testing.T) {
	f := newAPIFixture(t)
	f.src.Block = make(chan struct{})
	f.src.Started = make(chan struct{}, 1)
	var started struct{ Job fetch.Job }
	if code := f.call(t, "POST", "/api/v1/connections/files/fetch", `{"entities":["contacts"]}`, &started); code != 202 {
		t.Fatalf("start: %d", code)
	}
	<-f.src.Started
	var e struct {
		Error struct {
			Code    string
			Details struct{ Job fetch.Job }
		}
	}
	if code := f.call(t, "POST", "/api/v1/connections/files/fetch", "", &e); code != 409 || e.Error.Code != "fetch_running" || e.Error.Details.Job.ID != started.Job.ID {
		t.Fatalf("second fetch: %d %+v", code, e)
	}
	close(f.src.Block)
	f.poll(t, started.Job.ID)

	tests := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/api/v1/connections/nope/fetch", "", 404, "not_found"},
		{"GET", "/api/v1/connections/files/jobs/nope", "", 404, "not_found"},
		{"GET", "/api/v1/connections/files/metadata", "", 404, "no_metadata"},
		{"POST", "/api/v1/connections/files/fetch", "{", 400, "invalid_json"},
		{"POST", "/api/v1/connections/files/reconnect", `{"type":"api_key","secret":"x","extra":1}`, 400, "invalid_auth"},
		{"POST", "/api/v1/connections/files/reconnect", `{"type":"kerberos"}`, 400, "invalid_auth"},
		{"GET", "/api/v1/connections/files/jobs?limit=0", "", 400, "invalid_limit"},
	}
	for _, tt := range tests {
		var e struct{ Error struct{ Code string } }
		if code := f.call(t, tt.method, tt.path, tt.body, &e); code != tt.status || e.Error.Code != tt.code {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, code, e.Error.Code, tt.status, tt.code)
		}
	}
}

func TestWebhookKeyRotation(t *testing.T) {
	f := newAPIFixture(t)
	var shown struct{ Key, Source string }
	if code := f.call(t, "GET", "/api/v1/connections/files/key", "", &shown); code != 200 || shown.Key != "yaml-secret" || shown.Source != "config" {
		t.Fatalf("key before rotation: %d %+v", code, shown)
	}
	var rotated struct {
		Key, Source string
		Applied     bool
	}
	if code := f.call(t, "POST", "/api/v1/connections/files/key/rotate", "", &rotated); code != 200 || !strings.HasPrefix(rotated.Key, "jwk_") || len(rotated.Key) < 40 || !rotated.Applied {
		t.Fatalf("rotate: %d %+v", code, rotated)
	}
	if f.src.Secret != rotated.Key {
		t.Errorf("connector configured with %q, want the rotated key", f.src.Secret)
	}
	f.call(t, "GET", "/api/v1/connections/files/key", "", &shown)
	if shown.Key != rotated.Key || shown.Source != "rotated" {
		t.Fatalf("key after rotation %+v, want %s", shown, rotated.Key)
	}
	key, ok, err := fetch.WebhookKey(context.Background(), f.st.Secrets(), "files")
	if err != nil || !ok || key != rotated.Key {
		t.Fatalf("WebhookKey = %q %v %v", key, ok, err)
	}
	var again struct{ Key string }
	f.call(t, "POST", "/api/v1/connections/files/key/rotate", "", &again)
	if again.Key == rotated.Key {
		t.Error("rotation returned the same key")
	}
	if _, ok, _ := fetch.WebhookKey(context.Background(), f.st.Secrets(), "other"); ok {
		t.Error("a connection without a rotated key has one")
	}
}

func TestMetadataAPI(t *testing.T) {
	f := newAPIFixture(t)
	f.src.Meta = &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{{Name: "contacts", DisplayName: "Contacts"}}}
	var started struct{ Job fetch.Job }
	if code := f.call(t, "POST", "/api/v1/connections/files/fetch?metadataOnly=true", "", &started); code != 202 || !started.Job.MetadataOnly {
		t.Fatalf("start: %d %+v", code, started)
	}
	f.poll(t, started.Job.ID)
	var md struct{ Metadata fetch.Metadata }
	if code := f.call(t, "GET", "/api/v1/connections/files/metadata", "", &md); code != 200 || md.Metadata.Entities[0].DisplayName != "Contacts" {
		t.Fatalf("metadata: %d %+v", code, md)
	}
}
