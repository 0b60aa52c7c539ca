package console

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/server"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/core/workflow"
	"github.com/junctionhub/junction/pluginsdk"
)

const testToken = "console-test-token"

// testConfig has an inbound connection that triggers "orders", an
// outbound one whose post fails permanently for payloads with "fail": true,
// and a pull connection with an entity for the data overview.
const testConfig = `apiVersion: junction/v1
kind: Settings
spec: {timezone: Europe/Rome}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec: {connector: testpush, auth: {type: none}, config: {api_key: hunter2, region: eu}}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sink-out}
spec: {connector: testout}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: crm-feed}
spec: {connector: testpull, schedule: {every: 1h}}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders}
spec:
  description: Orders to the sink
  trigger: {connection: orders-in}
  filter:
    - {path: $.kind, op: eq, value: order}
  fields:
    id: {path: $.id, type: string}
    fail: {path: $.fail, type: boolean, default: false}
  tasks:
    - name: deliver
      uses: sink-out.post
      retry: {max_attempts: 1}
      with: {order: "{{ .fields.id }}", fail: "{{ .fields.fail }}"}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: audit}
spec:
  trigger: {connection: orders-in}
  filter:
    - {path: $.kind, op: eq, value: audit}
  tasks:
    - name: note
      uses: sink-out.post
      with: {note: audit}
---
apiVersion: junction/v1
kind: Directory
metadata: {name: POOL_demo}
spec: {dedup: [email]}
`

// testConnector is a connector whose roles depend on its kind.
type testConnector struct{ kind string }

func (t *testConnector) Spec() pluginsdk.Spec {
	s := pluginsdk.Spec{Name: t.kind, Version: "1.2.0", ABI: pluginsdk.ABIVersion, Description: "test " + t.kind}
	switch t.kind {
	case "testpush":
		s.Direction, s.Roles = pluginsdk.Inbound, []string{pluginsdk.RoleReceive}
		s.Config = []pluginsdk.Param{{Name: "region", Type: pluginsdk.TypeString}}
		s.Setup = []pluginsdk.SetupStep{{Title: "Sender URL", Text: "{{.URL}}?region={{.Config.region}}&key={{.Config.api_key}}", Help: "Paste it in the sender."}}
	case "testout":
		s.Direction, s.Roles = pluginsdk.Outbound, []string{pluginsdk.RolePerform}
		s.Actions = []pluginsdk.Action{{Name: "post"}}
	case "testpull":
		s.Direction, s.Roles = pluginsdk.Inbound, []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata}
		s.Entities = []pluginsdk.Entity{{Name: "Contact", DisplayName: "Contacts", Fields: []pluginsdk.Field{
			{Name: "Email", DisplayName: "Email", APILabel: "email__c", Type: "string", Required: true},
			{Name: "Country", Type: "string"},
		}}}
	}
	return s
}

func (t *testConnector) Configure(context.Context, *pluginsdk.Context) error { return nil }

func (t *testConnector) Receive(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	return &pluginsdk.ReceiveResult{Events: []pluginsdk.Event{{Payload: req.Body}}, Response: pluginsdk.HTTPResponse{Status: 202}}, nil
}

// Perform fails like a target answering 400 when the input says so.
func (t *testConnector) Perform(_ context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	var in map[string]any
	if err := json.Unmarshal(req.Input, &in); err != nil {
		return nil, pluginsdk.Errorf("decode input: %v", err)
	}
	if in["fail"] == "true" || in["fail"] == true {
		return nil, &pluginsdk.Error{Code: "http_400", Message: fmt.Sprintf("sink-out: POST /deliver: HTTP 400 Bad Request: order %v rejected", in["order"])}
	}
	return &pluginsdk.PerformResult{Output: json.RawMessage(`{"status":201,"accepted":true}`)}, nil
}

type fixture struct {
	t       testing.TB
	dir     string
	st      *store.Badger
	bundle  *config.Bundle
	conns   *connector.Manager
	engine  *workflow.Engine
	console *Console
	srv     *server.Server
}

// newFixture builds a real store, connections, engine and server with the
// console mounted; mod adjusts the console's options.
func newFixture(t testing.TB, mod func(*Options)) *fixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "hub.yaml")
	if err := os.WriteFile(path, []byte(testConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := config.Load([]string{path}, config.Options{})
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return fixtureOn(t, dir, st, b, mod)
}

func fixtureOn(t testing.TB, dir string, st *store.Badger, b *config.Bundle, mod func(*Options)) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	conns, err := connector.NewManager(context.Background(), connector.ManagerOptions{
		Connections: b.Connections, Store: st, Logger: log,
		Open: func(_ context.Context, c *config.Connection) (connector.Opened, error) {
			return connector.Opened{Connector: &testConnector{kind: c.Connector}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conns.Close() })
	resolver, err := connector.NewResolver(conns, &task.Env{Logger: log, Events: st.Log(), Secrets: st.Secrets(), Connections: conns.ForTasks()})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := workflow.New(workflow.Options{
		Store: st, Workflows: b.Workflows, Resolver: resolver, Logger: log, Workers: 2,
		Retry: config.RetryPolicy{MaxAttempts: 1, InitialInterval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	o := Options{
		Store: st, Engine: eng, Bundle: b, Connections: conns, Logger: log,
		AdminTokenHash: sha256.Sum256([]byte(testToken)), CaptureTimeout: 10 * time.Second,
	}
	if mod != nil {
		mod(&o)
	}
	con, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(con.Close)
	srv := server.New(server.Options{
		Store: st, Connections: conns, Engine: eng, AdminTokenHash: o.AdminTokenHash,
		Logger: log, Console: con,
	})
	return &fixture{t: t, dir: dir, st: st, bundle: b, conns: conns, engine: eng, console: con, srv: srv}
}

// response is a finished request, body read.
type response struct {
	Status   int
	Body     string
	Location string
	Header   http.Header
	Cookies  []*http.Cookie
}

func (f *fixture) do(req *http.Request) response {
	f.t.Helper()
	resp, err := f.srv.App().Test(req, -1)
	if err != nil {
		f.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Body: string(body), Location: resp.Header.Get("Location"), Header: resp.Header, Cookies: resp.Cookies()}
}

// browser is a logged-in (or not) client: its cookies and CSRF token.
type browser struct {
	f       *fixture
	cookies map[string]string
	csrf    string
}

func (f *fixture) anonymous() *browser { return &browser{f: f, cookies: map[string]string{}} }

// login logs in through the form and returns the browser.
func (f *fixture) login() *browser {
	f.t.Helper()
	b := f.anonymous()
	page := b.get("/login")
	if page.Status != http.StatusOK {
		f.t.Fatalf("GET /login = %d", page.Status)
	}
	resp := b.post("/login", url.Values{"token": {testToken}, "csrf": {csrfIn(f.t, page.Body)}})
	if resp.Status != http.StatusSeeOther {
		f.t.Fatalf("POST /login = %d, want 303\n%s", resp.Status, resp.Body)
	}
	runs := b.get("/runs")
	if runs.Status != http.StatusOK {
		f.t.Fatalf("GET /runs after login = %d", runs.Status)
	}
	b.csrf = csrfIn(f.t, runs.Body)
	return b
}

func (b *browser) request(method, path string, form url.Values) response {
	b.f.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp := b.f.do(req)
	for _, c := range resp.Cookies {
		if c.MaxAge < 0 || c.Value == "" || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) {
			delete(b.cookies, c.Name)
			continue
		}
		b.cookies[c.Name] = c.Value
	}
	return resp
}

func (b *browser) get(path string) response { return b.request(http.MethodGet, path, nil) }

func (b *browser) post(path string, form url.Values) response {
	return b.request(http.MethodPost, path, form)
}

// submit posts a console form with the session's CSRF token.
func (b *browser) submit(path string, form url.Values) response {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf)
	return b.post(path, form)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfIn(t testing.TB, html string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no csrf field in page:\n%s", html)
	}
	return m[1]
}

func mustContain(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("page:\n%s", body)
	}
}

// testRun runs the orders workflow on a payload through the engine.
func (f *fixture) testRun(payload string) *store.Run {
	f.t.Helper()
	r, err := f.engine.RunOnce(context.Background(), "orders", []byte(payload))
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}
