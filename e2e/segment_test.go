package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/hub"
	"github.com/junctionhub/junction/core/plugin/registry"

	_ "github.com/junctionhub/junction/builtin/directorytasks" // the in-process hub's directory tasks
)

// The Segment credentials the tests configure: the write key of the
// fixtures' batch and the secret the signed fixture was signed with.
const (
	segWriteKey = "WRITE_KEY_EXAMPLE"
	segSecret   = "example-shared-secret"
)

// startSegmentHub serves the repository's configs/segment.yaml (plus the
// named extra config files) with the bundled plugins of plugins/<name>
// installed, the Segment credentials set and mapping 3's webhook pointed
// at s.
func startSegmentHub(t *testing.T, s *sink, extra []string, plugins []string, env map[string]string) *hubProc {
	t.Helper()
	cfg := t.TempDir()
	for _, f := range append([]string{"segment.yaml"}, extra...) {
		b, err := os.ReadFile(filepath.Join("..", "configs", f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(cfg, f), string(b))
	}
	data := t.TempDir()
	for _, p := range append([]string{"segment"}, plugins...) {
		installPlugin(t, data, p)
	}
	all := map[string]string{"SEGMENT_WRITE_KEY": segWriteKey, "SEGMENT_SHARED_SECRET": segSecret, "SEGMENT_NOTIFY_URL": s.URL}
	for k, v := range env {
		all[k] = v
	}
	return startHub(t, cfg, data, all, "")
}

// segmentPost sends body to the segment-prod hook + path with headers.
func segmentPost(t *testing.T, h *hubProc, path string, body []byte, header http.Header) (int, string) {
	t.Helper()
	return segmentPostWith(t, http.DefaultClient, h, path, body, header)
}

func segmentPostWith(t *testing.T, c *http.Client, h *hubProc, path string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", h.URL+"/hooks/segment-prod"+path, bytes.NewReader(body))
	req.Header = header.Clone()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("post %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sdkHeader is what @segment/analytics-node sends with every batch.
func sdkHeader(writeKey string) http.Header {
	return http.Header{
		"Content-Type":  {"application/json"},
		"User-Agent":    {"analytics-node-next/latest"},
		"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(writeKey+":"))},
	}
}

// webhookHeader is what the Webhooks destination sends: the body signed.
func webhookHeader(body []byte) http.Header {
	mac := hmac.New(sha1.New, []byte(segSecret))
	mac.Write(body)
	return http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Segment.io/1.0"}, "X-Signature": {hex.EncodeToString(mac.Sum(nil))}}
}

// nodeMessage is one message as analytics-node builds it (messageId
// node-next-<ms>-<uuid>, context.library, _metadata, integrations).
func nodeMessage(typ, userID, timestamp string, fields map[string]any) map[string]any {
	var u [16]byte
	rand.Read(u[:])
	m := map[string]any{
		"type": typ, "userId": userID, "timestamp": timestamp, "integrations": map[string]any{},
		"messageId": fmt.Sprintf("node-next-%d-%x-%x-%x-%x-%x", time.Now().UnixMilli(), u[0:4], u[4:6], u[6:8], u[8:10], u[10:]),
		"context":   map[string]any{"library": map[string]any{"name": "@segment/analytics-node", "version": "2.1.2"}},
		"_metadata": map[string]any{"nodeVersion": "20.11.1", "jsRuntime": "node"},
	}
	for k, v := range fields {
		m[k] = v
	}
	return m
}

// sdkBatch posts messages to /v1/batch exactly as analytics-node does and
// wants the Tracking API's answer.
func sdkBatch(t *testing.T, h *hubProc, msgs ...map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"batch": msgs, "sentAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z")})
	if code, resp := segmentPost(t, h, "/v1/batch", body, sdkHeader(segWriteKey)); code != 200 || resp != `{"success":true}` {
		t.Fatalf("POST /v1/batch: %d %s", code, resp)
	}
}

type contactView struct {
	ID           string         `json:"id"`
	Email        string         `json:"email"`
	FirstName    string         `json:"firstName"`
	LastName     string         `json:"lastName"`
	Phone        string         `json:"phone"`
	ExtRef       string         `json:"extRef"`
	Language     string         `json:"language"`
	Embedded     map[string]any `json:"embedded"`
	Transactions []struct {
		Date time.Time      `json:"date"`
		Data map[string]any `json:"data"`
	} `json:"transactions"`
	Distributions []struct {
		SurveyID string `json:"surveyId"`
		Method   string `json:"method"`
		Status   string `json:"status"`
		Link     string `json:"link"`
	} `json:"distributions"`
}

// contactsByEmail finds contacts of POOL_demo by email, each with its
// transactions and distributions.
func contactsByEmail(t *testing.T, h *hubProc, email string) []contactView {
	t.Helper()
	var found struct{ Contacts []contactView }
	if code := h.api("GET", "/directories/POOL_demo/contacts?email="+url.QueryEscape(email), nil, &found); code != 200 {
		t.Fatalf("find %s: HTTP %d", email, code)
	}
	for i, c := range found.Contacts {
		if code := h.api("GET", "/contacts/"+c.ID, nil, &found.Contacts[i]); code != 200 {
			t.Fatalf("GET /contacts/%s: HTTP %d", c.ID, code)
		}
	}
	return found.Contacts
}

func runsOf(h *hubProc, workflow, status string) []runView {
	q := url.Values{"workflow": {workflow}}
	if status != "" {
		q.Set("status", status)
	}
	return allRuns(h, q)
}

func waitRuns(t *testing.T, h *hubProc, workflow string, n int) {
	t.Helper()
	waitFor(t, 60*time.Second, fmt.Sprintf("%d completed %s runs", n, workflow), func() bool {
		if f := runsOf(h, workflow, "failed"); len(f) > 0 {
			t.Fatalf("%s run failed: %s %+v", workflow, f[0].Error, f[0].Tasks)
		}
		return len(runsOf(h, workflow, "completed")) == n
	})
}

// TestSegmentSDKToDirectory: identify and track calls sent to the Tracking
// API exactly as @segment/analytics-node sends them make the contact and its
// "Transaction Created" transaction; a second identify for the same email
// updates the contact instead of adding one.
func TestSegmentSDKToDirectory(t *testing.T) {
	h := startSegmentHub(t, newSink(t), nil, nil, nil)
	const email = "marco.bianchi@example.com"
	sdkBatch(t, h,
		nodeMessage("identify", "u-marco-1", "2026-03-02T10:15:01.400Z", map[string]any{
			"traits": map[string]any{"email": email, "firstName": "Marco", "lastName": "Bianchi", "plan": "basic", "logins": 3},
		}),
		nodeMessage("track", "u-marco-1", "2026-03-02T10:15:02.100Z", map[string]any{
			"event":      "Transaction Created",
			"context":    map[string]any{"library": map[string]any{"name": "@segment/analytics-node", "version": "2.1.2"}, "traits": map[string]any{"email": email}},
			"properties": map[string]any{"orderId": "ORD-77001", "revenue": 42.5, "currency": "EUR", "store": "Torino Porta Nuova"},
		}),
	)
	waitRuns(t, h, "segment-contacts", 1)
	waitRuns(t, h, "segment-transactions", 1)
	cs := contactsByEmail(t, h, email)
	if len(cs) != 1 {
		t.Fatalf("%d contacts for %s, want 1", len(cs), email)
	}
	c := cs[0]
	if c.FirstName != "Marco" || c.LastName != "Bianchi" || c.Embedded["plan"] != "basic" || c.Embedded["logins"] != 3.0 || c.Embedded["segmentUserId"] != "u-marco-1" {
		t.Errorf("contact %+v", c)
	}
	if len(c.Transactions) != 1 {
		t.Fatalf("%d transactions, want 1", len(c.Transactions))
	}
	tx := c.Transactions[0]
	if tx.Data["orderId"] != "ORD-77001" || tx.Data["revenue"] != 42.5 || tx.Data["currency"] != "EUR" || tx.Data["store"] != "Torino Porta Nuova" ||
		!tx.Date.Equal(time.Date(2026, 3, 2, 10, 15, 2, 100e6, time.UTC)) {
		t.Errorf("transaction %+v", tx)
	}

	// A later identify of the same person, written differently, updates.
	sdkBatch(t, h, nodeMessage("identify", "u-marco-1", "2026-03-03T09:00:00.000Z", map[string]any{
		"traits": map[string]any{"email": " Marco.Bianchi@Example.com", "lastName": "Bianchi-Rossi", "plan": "premium"},
	}))
	waitRuns(t, h, "segment-contacts", 2)
	cs = contactsByEmail(t, h, email)
	if len(cs) != 1 || cs[0].ID != c.ID {
		t.Fatalf("after the second identify: %d contacts (%+v), want the same one", len(cs), cs)
	}
	if u := cs[0]; u.LastName != "Bianchi-Rossi" || u.FirstName != "Marco" || u.Embedded["plan"] != "premium" || u.Embedded["logins"] != 3.0 || len(u.Transactions) != 1 {
		t.Errorf("updated contact %+v", u)
	}
}

// TestSegmentFixtures posts every Segment fixture the way Segment sends it:
// the Tracking API batch first, then each message from the Webhooks
// destination, signed. Redelivered messageIds start no second run.
func TestSegmentFixtures(t *testing.T) {
	s := newSink(t)
	h := startSegmentHub(t, s, nil, nil, nil)
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "segment", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The batch authenticates with the writeKey in its body.
	body := fixture("tracking-api-batch.json")
	if code, resp := segmentPost(t, h, "/v1/batch", body, http.Header{"Content-Type": {"application/json"}}); code != 200 {
		t.Fatalf("batch fixture: %d %s", code, resp)
	}
	waitRuns(t, h, "segment-contacts", 1)
	waitRuns(t, h, "segment-transactions", 1)

	// The recorded signed post, with the headers Segment sent.
	hdr := http.Header{}
	for _, line := range strings.Split(string(fixture("webhook-signed-body.headers")), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && !strings.HasPrefix(k, "#") {
			hdr.Set(k, v)
		}
	}
	if code, resp := segmentPost(t, h, "", fixture("webhook-signed-body.json"), hdr); code != 200 || resp != `{"success":true}` {
		t.Fatalf("signed fixture: %d %s", code, resp)
	}
	for _, name := range []string{"identify.json", "track-transaction-created.json", "page.json", "screen.json", "group.json", "alias.json", "track-other-event.json"} {
		b := fixture(name)
		if code, resp := segmentPost(t, h, "", b, webhookHeader(b)); code != 200 {
			t.Fatalf("%s: %d %s", name, code, resp)
		}
	}
	// The last fixture is the only new one that starts a run: once it has
	// completed, every earlier post has been dispatched.
	waitRuns(t, h, "segment-order-viewed", 1)
	if n, m := len(runsOf(h, "segment-contacts", "")), len(runsOf(h, "segment-transactions", "")); n != 1 || m != 1 {
		t.Errorf("%d contact runs, %d transaction runs: redelivered messageIds started runs again", n, m)
	}
	if all := allRuns(h, url.Values{}); len(all) != 3 {
		t.Errorf("%d runs in all, want 3: page, screen, group and alias calls start none", len(all))
	}

	cs := contactsByEmail(t, h, "giulia.rossi@example.com")
	if len(cs) != 1 {
		t.Fatalf("%d contacts for giulia.rossi@example.com, want 1", len(cs))
	}
	c := cs[0]
	wantEmb := map[string]any{"segmentUserId": "97980cfea0067", "plan": "premium", "logins": 5.0, "newsletter": true, "city": "Milano", "country": "IT"}
	for k, v := range wantEmb {
		if c.Embedded[k] != v {
			t.Errorf("embedded %s = %v, want %v", k, c.Embedded[k], v)
		}
	}
	if c.FirstName != "Giulia" || c.LastName != "Rossi" || c.Phone != "+39 02 1234 5678" || c.Language != "it-IT" {
		t.Errorf("contact %+v", c)
	}
	if len(c.Transactions) != 1 {
		t.Fatalf("%d transactions, want 1", len(c.Transactions))
	}
	tx := c.Transactions[0]
	wantData := map[string]any{"orderId": "ORD-50314", "revenue": 129.9, "currency": "EUR", "store": "Milano Centro", "segmentUserId": "97980cfea0067"}
	for k, v := range wantData {
		if tx.Data[k] != v {
			t.Errorf("transaction data %s = %v, want %v", k, tx.Data[k], v)
		}
	}
	if _, has := tx.Data["coupon"]; has || !tx.Date.Equal(time.Date(2026, 3, 2, 10, 17, 43, 950e6, time.UTC)) {
		t.Errorf("transaction %+v: want no coupon (null in the event) and the event's timestamp as date", tx)
	}

	// Mapping 3 posted the inferred fields to the webhook.
	run := runsOf(h, "segment-order-viewed", "completed")[0]
	got := s.delivered()[run.ID+"/notify"]
	var posted map[string]any
	if err := json.Unmarshal(got, &posted); err != nil {
		t.Fatalf("webhook body %q: %v", got, err)
	}
	want := map[string]any{"event": "Order Viewed", "order": "ORD-50314", "email": "giulia.rossi@example.com", "user": "97980cfea0067",
		"at": "2026-03-02T10:17:43.950Z", "segmentMessageId": "ajs-0b1a9d3c3e2f4a1b8c7d6e5f4a3b2c1d"}
	for k, v := range want {
		if posted[k] != v {
			t.Errorf("webhook %s = %v, want %v (body %s)", k, posted[k], v, got)
		}
	}
}

// TestSegmentRedeliveryAndConcurrency: the same messageId delivered again
// within 24 h, by either route, starts no second run; 50 identifies of one
// person at once leave exactly one contact. Bad input is refused.
func TestSegmentRedeliveryAndConcurrency(t *testing.T) {
	h := startSegmentHub(t, newSink(t), nil, nil, nil)
	track := nodeMessage("track", "u-9", "2026-03-02T11:00:00.000Z", map[string]any{
		"event":      "Transaction Created",
		"context":    map[string]any{"traits": map[string]any{"email": "lena@example.com"}},
		"properties": map[string]any{"orderId": "ORD-9", "revenue": 10},
	})
	one, _ := json.Marshal(track)
	sdkBatch(t, h, track)
	sdkBatch(t, h, track)
	if code, resp := segmentPost(t, h, "/v1/track", one, sdkHeader(segWriteKey)); code != 200 {
		t.Fatalf("/v1/track: %d %s", code, resp)
	}
	if code, resp := segmentPost(t, h, "", one, webhookHeader(one)); code != 200 {
		t.Fatalf("webhook redelivery: %d %s", code, resp)
	}

	const n = 50
	// A burst dials connections that may never carry a request; they are
	// closed before the hub stops, or its graceful shutdown waits on them.
	burst := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(burst.CloseIdleConnections)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			msg := nodeMessage("identify", "u-9", "2026-03-02T11:00:01.000Z", map[string]any{
				"traits": map[string]any{"email": "lena@example.com", "firstName": "Lena", "logins": i},
			})
			body, _ := json.Marshal(map[string]any{"batch": []any{msg}})
			if code, resp := segmentPostWith(t, burst, h, "/v1/batch", body, sdkHeader(segWriteKey)); code != 200 {
				t.Errorf("identify %d: %d %s", i, code, resp)
			}
		})
	}
	wg.Wait()
	waitRuns(t, h, "segment-contacts", n)
	if runs := runsOf(h, "segment-transactions", ""); len(runs) != 1 {
		t.Errorf("%d transaction runs for one messageId delivered 4 times, want 1", len(runs))
	}
	cs := contactsByEmail(t, h, "lena@example.com")
	if len(cs) != 1 || len(cs[0].Transactions) != 1 || cs[0].FirstName != "Lena" {
		t.Fatalf("contacts %+v: want exactly one, with one transaction", cs)
	}

	refusals := []struct {
		name, path string
		body       []byte
		header     http.Header
		status     int
		says       string
	}{
		{"wrong write key", "/v1/batch", []byte(`{"batch":[]}`), sdkHeader("nope"), 401, "write key"},
		{"bad signature", "", one, http.Header{"X-Signature": {strings.Repeat("0", 40)}}, 401, "X-Signature"},
		{"malformed JSON", "/v1/batch", []byte(`{"batch":[{"type":"track",}]}`), sdkHeader(segWriteKey), 400, "malformed"},
		{"over 500 KB", "/v1/batch", []byte(`{"batch":["` + strings.Repeat("x", 600<<10) + `"]}`), sdkHeader(segWriteKey), 413, "500 KB"},
		{"some bad messages", "/v1/batch", []byte(`{"batch":[{"type":"page","userId":"u-9","messageId":"p-1"},{"type":"track","userId":"u-9"}]}`), sdkHeader(segWriteKey), 400, `"rejected":[{"index":1`},
	}
	for _, r := range refusals {
		if code, resp := segmentPost(t, h, r.path, r.body, r.header); code != r.status || !strings.Contains(resp, r.says) {
			t.Errorf("%s: %d %s, want %d saying %q", r.name, code, resp, r.status, r.says)
		}
	}
}

// BenchmarkSegmentIngest measures Segment messages from the Tracking API
// to the directory: identify calls with distinct emails, sent by 8
// concurrent clients as /v1/batch of 100 or as single /v1/identify calls,
// through the connector built as Wasm (in process) and as a go-plugin
// (native code, out of process), until each message is a contact. It
// reports the rate of acknowledged messages and of contacts made.
//
//	go test -run '^$' -bench SegmentIngest -benchtime 3000x ./e2e
func BenchmarkSegmentIngest(b *testing.B) {
	for _, form := range []registry.Kind{registry.KindWasm, registry.KindGoPlugin} {
		b.Run(string(form), func(b *testing.B) {
			base, stop := segmentBenchHub(b, form)
			defer stop()
			b.Run("batch100", func(b *testing.B) { benchSegment(b, base, 100) })
			b.Run("single", func(b *testing.B) { benchSegment(b, base, 1) })
		})
	}
}

// segmentBenchHub runs configs/segment.yaml in process with the segment
// connector built for form and installed; it returns the hub's URL.
func segmentBenchHub(b *testing.B, form registry.Kind) (string, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	cfgDir, data, dist := b.TempDir(), b.TempDir(), b.TempDir()
	cfg, err := os.ReadFile(filepath.Join("..", "configs", "segment.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(cfgDir, "segment.yaml"), cfg, 0o644)
	reg, err := registry.Open(data)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := registry.BuildDistAs(ctx, filepath.Join("..", "plugins", "segment"), filepath.Join(dist, "segment"), form, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := reg.Install(ctx, dist, registry.InstallOptions{}); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"SEGMENT_WRITE_KEY": segWriteKey, "JUNCTION_ADMIN_TOKEN": "t"}
	h, err := hub.Open(ctx, hub.Options{
		ConfigPaths: []string{cfgDir}, DataDir: data, Addr: "127.0.0.1:0",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		b.Fatal(err)
	}
	addr, err := h.Listen()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	return "http://" + addr.String(), func() { cancel(); <-done }
}

func benchSegment(b *testing.B, base string, perRequest int) {
	contacts := func() int {
		req, _ := http.NewRequest("GET", base+"/api/v1/directories", nil)
		req.Header.Set("Authorization", "Bearer t")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var d struct{ Directories []struct{ Contacts int } }
		if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || len(d.Directories) != 1 {
			b.Fatalf("GET /directories: %v %+v", err, d)
		}
		return d.Directories[0].Contacts
	}
	before := contacts()
	path := "/v1/batch"
	if perRequest == 1 {
		path = "/v1/identify"
	}
	requests := (b.N + perRequest - 1) / perRequest
	tag := fmt.Sprintf("%d-%d", time.Now().UnixNano(), perRequest)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for r := int(next.Add(1) - 1); r < requests; r = int(next.Add(1) - 1) {
				msgs := make([]any, 0, perRequest)
				for i := r * perRequest; i < min((r+1)*perRequest, b.N); i++ {
					msgs = append(msgs, nodeMessage("identify", fmt.Sprintf("u-%s-%d", tag, i), "2026-03-02T10:15:01.400Z", map[string]any{
						"traits": map[string]any{"email": fmt.Sprintf("bench-%s-%d@example.com", tag, i), "plan": "basic"},
					}))
				}
				var body []byte
				if perRequest == 1 {
					body, _ = json.Marshal(msgs[0])
				} else {
					body, _ = json.Marshal(map[string]any{"batch": msgs})
				}
				req, _ := http.NewRequest("POST", base+"/hooks/segment-prod"+path, bytes.NewReader(body))
				req.Header = sdkHeader(segWriteKey)
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	acked := time.Since(start)
	for deadline := time.Now().Add(5 * time.Minute); contacts()-before < b.N; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d contacts after 5 minutes", contacts()-before, b.N)
		}
	}
	all := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/acked.Seconds(), "acked-events/s")
	b.ReportMetric(float64(b.N)/all.Seconds(), "contacts/s")
}
