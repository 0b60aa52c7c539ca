package e2e

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hostile bodies, built once per test binary: compressing a gigabyte of
// zeros takes seconds.
var (
	bombsOnce sync.Once
	// bomb2x is `head -c 200000000 /dev/zero | gzip -9 | gzip -9`: a few
	// hundred bytes that were 200 MB.
	bomb2x []byte
	// bomb1x is the inner layer alone: ~200 KB, under the body limit, that
	// expands to 200 MB in one gzip layer.
	bomb1x []byte
	// bomb3x is one more layer on bomb2x.
	bomb3x []byte
	// gigaBomb is ~1 MB of gzip that was 1 GB of zeros.
	gigaBomb []byte
)

func gzipLevel9(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zerosGzip(n int) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	chunk := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, len(chunk))
		w.Write(chunk[:k])
		n -= k
	}
	w.Close()
	return buf.Bytes()
}

func bombs(t *testing.T) {
	t.Helper()
	bombsOnce.Do(func() {
		bomb1x = zerosGzip(200_000_000)
		bomb2x = gzipLevel9(bomb1x)
		bomb3x = gzipLevel9(bomb2x)
		gigaBomb = zerosGzip(1 << 30)
	})
	t.Logf("bombs: 2 layers %d B, 1 layer %d B, 3 layers %d B, 1 GB of zeros %d B", len(bomb2x), len(bomb1x), len(bomb3x), len(gigaBomb))
}

// procStatus reads a field of /proc/<pid>/status in bytes (VmRSS, VmHWM).
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q", field, rest)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// resetPeak sets VmHWM back to the current RSS (Linux clear_refs 5), so the
// peak measures the hostile requests, not start-up. It reports whether the
// kernel allowed it.
func resetPeak(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
}

type hostileCase struct {
	name   string
	path   string
	header map[string]string
	body   func() []byte
	code   int
	errSub string // in the answer's error code or message
}

// sendHostile posts each case, checks its status and that it was refused
// within a second, and returns how much the hub's peak RSS grew over its
// RSS before the first.
func sendHostile(t *testing.T, h *hubProc, cases []hostileCase) (before, peak, after int64) {
	t.Helper()
	pid := h.cmd.Process.Pid
	peakReset := resetPeak(pid)
	before = procStatus(t, pid, "VmRSS")
	client := &http.Client{Timeout: 30 * time.Second}
	for _, tc := range cases {
		body := tc.body()
		req, _ := http.NewRequest("POST", h.URL+tc.path, bytes.NewReader(body))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		t.Logf("%s: %d B sent, %d in %s, RSS %d MB: %s", tc.name, len(body), resp.StatusCode, took.Round(time.Millisecond), procStatus(t, pid, "VmRSS")>>20, b)
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.errSub) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, resp.StatusCode, b, tc.code, tc.errSub)
		}
		// The must-have of issue 10: a hostile body is refused at once.
		if took > time.Second {
			t.Errorf("%s: refused after %s, want within 1s", tc.name, took)
		}
	}
	after = procStatus(t, pid, "VmRSS")
	peak = after
	if peakReset {
		peak = max(peak, procStatus(t, pid, "VmHWM"))
	}
	return before, peak, after
}

func checkGrowth(t *testing.T, before, peak, after int64) {
	t.Helper()
	t.Logf("hub RSS: %d MB before, peak %d MB, %d MB after (growth %d MB)", before>>20, peak>>20, after>>20, (peak-before)>>20)
	if peak-before >= 64<<20 {
		t.Errorf("hub RSS grew by %d MB (from %d MB to a peak of %d MB), want under 64 MB", (peak-before)>>20, before>>20, peak>>20)
	}
}

func deflated(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// TestHostileBodiesOnWebhook sends the bombs of issue 10 to the
// quick-start's orders-in (webhook, X-API-Key): each is refused within a
// second, nothing is stored, and the hub's memory barely moves.
func TestHostileBodiesOnWebhook(t *testing.T) {
	bombs(t)
	h := startHub(t, quickstartConfig(t), t.TempDir(), nil, "")
	const key = "dev-orders-key"
	js := map[string]string{"Content-Type": "application/json", "X-API-Key": key}
	enc := func(h map[string]string, v string) map[string]string {
		out := map[string]string{"Content-Encoding": v}
		for k, x := range h {
			out[k] = x
		}
		return out
	}
	anon := map[string]string{"Content-Type": "application/json"}
	cases := []hostileCase{
		{"the issue's bomb, no key", "/hooks/orders-in", enc(anon, "gzip, gzip"), func() []byte { return bomb2x }, 401, "unauthorized"},
		{"the issue's bomb, wrong key", "/hooks/orders-in", enc(map[string]string{"X-API-Key": "guess"}, "gzip, gzip"), func() []byte { return bomb2x }, 401, "unauthorized"},
		{"the issue's bomb, right key", "/hooks/orders-in", enc(js, "gzip, gzip"), func() []byte { return bomb2x }, 415, "unsupported_encoding"},
		{"3-layer gzip", "/hooks/orders-in", enc(js, "gzip, gzip, gzip"), func() []byte { return bomb3x }, 415, "unsupported_encoding"},
		{"3-layer gzip declared as one", "/hooks/orders-in", enc(js, "gzip"), func() []byte { return bomb3x }, 400, "invalid JSON"},
		{"one gzip layer, 200 MB", "/hooks/orders-in", enc(js, "gzip"), func() []byte { return bomb1x }, 413, "body_too_large"},
		{"deflate", "/hooks/orders-in", enc(js, "deflate"), func() []byte { return deflated(make([]byte, 100<<20)) }, 415, "unsupported_encoding"},
		{"br", "/hooks/orders-in", enc(js, "br"), func() []byte { return []byte{0x1b, 0xff, 0xff, 0x7f} }, 415, "unsupported_encoding"},
	}
	before, peak, after := sendHostile(t, h, cases)
	checkGrowth(t, before, peak, after)
	var runs struct{ Runs []json.RawMessage }
	if code := h.api("GET", "/runs", nil, &runs); code != 200 || len(runs.Runs) != 0 {
		t.Errorf("runs after hostile posts: %d, %d runs; want none", code, len(runs.Runs))
	}
	// A gzip body the sender really meant is accepted.
	req, _ := http.NewRequest("POST", h.URL+"/hooks/orders-in", bytes.NewReader(gzipLevel9([]byte(`{"id":"O-1","status":"paid"}`))))
	for k, v := range enc(js, "gzip") {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Errorf("a real gzip post: %d, want 202", resp.StatusCode)
	}
}

// TestHostileBodiesOnSegmentBatch sends ~1 MB of gzip that was 1 GB of
// zeros to the Segment batch route, which took the hub to 6 GB before.
func TestHostileBodiesOnSegmentBatch(t *testing.T) {
	bombs(t)
	h := startSegmentHub(t, newSink(t), nil, nil, nil)
	sdk := map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}
	for k, v := range sdkHeader(segWriteKey) {
		sdk[k] = v[0]
	}
	cases := []hostileCase{
		{"1 GB of zeros, with the write key", "/hooks/segment-prod/v1/batch", sdk, func() []byte { return gigaBomb }, 413, "body_too_large"},
		{"1 GB of zeros, no credentials", "/hooks/segment-prod/v1/batch", map[string]string{"Content-Type": "application/json", "Content-Encoding": "gzip"}, func() []byte { return gigaBomb }, 413, "body_too_large"},
		{"1 GB of zeros, wrong write key", "/hooks/segment-prod/v1/batch", map[string]string{"Content-Encoding": "gzip", "Authorization": sdkHeader("guess").Get("Authorization")}, func() []byte { return gigaBomb }, 401, "unauthorized"},
		{"stacked gzip", "/hooks/segment-prod/v1/batch", map[string]string{"Content-Encoding": "gzip, gzip", "Authorization": sdk["Authorization"]}, func() []byte { return bomb2x }, 415, "unsupported_encoding"},
		{"deflate", "/hooks/segment-prod/v1/batch", map[string]string{"Content-Encoding": "deflate", "Authorization": sdk["Authorization"]}, func() []byte { return deflated(make([]byte, 100<<20)) }, 415, "unsupported_encoding"},
	}
	before, peak, after := sendHostile(t, h, cases)
	checkGrowth(t, before, peak, after)
	// An SDK batch that really is gzipped is stored.
	msg, _ := json.Marshal(map[string]any{"batch": []any{nodeMessage("track", "u-1", time.Now().UTC().Format(time.RFC3339), map[string]any{"event": "Viewed"})}})
	code, body := segmentPost(t, h, "/v1/batch", gzipLevel9(msg), http.Header{
		"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}, "Authorization": {sdk["Authorization"]}})
	if code != 200 {
		t.Errorf("a gzipped SDK batch: %d %s, want 200", code, body)
	}
}

func quickstartConfig(t *testing.T) string {
	t.Helper()
	cfg := t.TempDir()
	b, err := os.ReadFile(filepath.Join("..", "configs", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(cfg, "quickstart.yaml"), string(b))
	return cfg
}

// TestNoAnonymousInbound: with the quick-start config, the outbound-only
// crm-out answers 404 to a push; a connection with an explicit auth:
// {type: none} accepts one, and validate warns about it.
func TestNoAnonymousInbound(t *testing.T) {
	post := func(url, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	h := startHub(t, quickstartConfig(t), t.TempDir(), nil, "")
	if code, body := post(h.URL+"/hooks/crm-out", `{"id":"forged"}`); code != 404 || !strings.Contains(body, "no auth") {
		t.Errorf("POST /hooks/crm-out: %d %s, want 404 saying it has no auth", code, body)
	}
	h.Stop()

	cfg := t.TempDir()
	writeFile(t, filepath.Join(cfg, "open.yaml"), `apiVersion: junction/v1
kind: Connection
metadata: {name: open-in}
spec:
  connector: webhook
  auth: {type: none}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: shut-in}
spec:
  connector: webhook
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: shut-flow}
spec:
  trigger: {connection: shut-in}
  filter: [{path: $.id, op: exists}]
  tasks: [{name: note, uses: open-in.post, with: {body: {id: "{{ .event.id }}"}}}]
`)
	out, code := junctionCLI(t, nil, "validate", cfg, "--data", t.TempDir())
	if code != 0 {
		t.Fatalf("validate exit %d, want 0 (warnings only):\n%s", code, out)
	}
	for _, want := range []string{"open.yaml:6:9: connection open-in: auth type none: anyone", "connection shut-in: no auth, so it does not receive pushes", "(warning)"} {
		if !strings.Contains(out, want) {
			t.Errorf("validate output lacks %q:\n%s", want, out)
		}
	}
	h = startHub(t, cfg, t.TempDir(), nil, "")
	if code, body := post(h.URL+"/hooks/open-in", `{"id":"anyone"}`); code != 202 {
		t.Errorf("POST /hooks/open-in (auth none): %d %s, want 202", code, body)
	}
	if code, body := post(h.URL+"/hooks/shut-in", `{"id":"x"}`); code != 404 || !strings.Contains(body, "auth: {type: none}") {
		t.Errorf("POST /hooks/shut-in (no auth): %d %s, want 404 saying how to fix it", code, body)
	}
}
