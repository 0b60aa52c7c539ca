package wasmhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/plugin/wasmhost"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

const sandboxDir = "testdata/sandbox"

// sandbox returns a configured connector of the sandbox guest (built and
// compiled once per test binary) and its fake host.
func sandbox(t *testing.T, o wasmhost.PoolOptions) (*wasmhost.Connector, *plugintest.Host) {
	t.Helper()
	m := hostrun.WasmModule(t, sandboxDir)
	c := m.NewConnector(o)
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	h := plugintest.NewHost(t)
	if err := c.Configure(context.Background(), h.Context(nil, pluginsdk.Auth{})); err != nil {
		t.Fatal(err)
	}
	return c, h
}

func perform(c *wasmhost.Connector, ctx context.Context, action, input string) (*pluginsdk.PerformResult, error) {
	return c.Perform(ctx, &pluginsdk.PerformRequest{Action: action, Input: json.RawMessage(input)})
}

func asError(t *testing.T, err error) *pluginsdk.Error {
	t.Helper()
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *pluginsdk.Error", err, err)
	}
	return pe
}

func TestLoopStoppedByDeadlineWhileOthersAreServed(t *testing.T) {
	c, _ := sandbox(t, wasmhost.PoolOptions{Size: 2, CallTimeout: 300 * time.Millisecond})
	loopDone := make(chan error, 1)
	go func() {
		_, err := perform(c, context.Background(), "loop", `{}`)
		loopDone <- err
	}()
	// While one instance spins, the other keeps answering.
	served := 0
	for {
		select {
		case err := <-loopDone:
			if served == 0 {
				t.Error("no other call was served while the guest looped")
			}
			pe := asError(t, err)
			if pe.Code != "timeout" || !pe.Retryable {
				t.Errorf("loop error = %+v, want a retryable timeout", pe)
			}
			want := "wasm connector sandbox@0.0.1: call perform: deadline exceeded after 300ms: instance discarded"
			if pe.Message != want {
				t.Errorf("message = %q\nwant      %q", pe.Message, want)
			}
			if _, err := perform(c, context.Background(), "echo", `{"after":true}`); err != nil {
				t.Errorf("call after the timeout: %v", err)
			}
			if s := c.Stats(); s.Discarded != 1 {
				t.Errorf("stats %+v, want 1 discarded instance", s)
			}
			return
		default:
		}
		res, err := perform(c, context.Background(), "echo", `{"n":1}`)
		if err != nil {
			t.Fatalf("echo while another instance loops: %v", err)
		}
		if string(res.Output) != `{"n":1}` {
			t.Fatalf("echo output %s", res.Output)
		}
		served++
	}
}

func TestCallsWaitForAFreeInstance(t *testing.T) {
	c, _ := sandbox(t, wasmhost.PoolOptions{Size: 1, CallTimeout: 500 * time.Millisecond})
	started := make(chan struct{})
	go func() {
		close(started)
		_, _ = perform(c, context.Background(), "loop", `{}`)
	}()
	<-started
	waitInUse(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := perform(c, ctx, "echo", `{}`)
	pe := asError(t, err)
	if pe.Code != "canceled" || !strings.Contains(pe.Message, "waiting for a free instance") {
		t.Errorf("error = %+v, want a wait for a free instance cut short", pe)
	}
}

func TestGuestFailuresFailOnlyTheirCall(t *testing.T) {
	tests := []struct {
		action    string
		code      string
		retryable bool
		contains  string
	}{
		{"trap", "trap", false, "out of bounds memory access"},
		{"panic", "panic", false, "connector panicked: boom"},
		{"grow", "memory", false, "out of memory (limit 64 MiB)"},
	}
	c, _ := sandbox(t, wasmhost.PoolOptions{Size: 1})
	for i, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			_, err := perform(c, context.Background(), tt.action, `{}`)
			pe := asError(t, err)
			if pe.Code != tt.code || pe.Retryable != tt.retryable || !strings.Contains(pe.Message, tt.contains) {
				t.Errorf("error = %+v, want code %q retryable %v containing %q", pe, tt.code, tt.retryable, tt.contains)
			}
			// The instance is replaced and the connector keeps working.
			res, err := perform(c, context.Background(), "echo", `"still here"`)
			if err != nil || string(res.Output) != `"still here"` {
				t.Fatalf("echo after %s: %v %v", tt.action, res, err)
			}
			if s := c.Stats(); s.Discarded != i+1 {
				t.Errorf("stats %+v, want %d discarded", s, i+1)
			}
		})
	}
}

func TestHTTPOnlyThroughTheConnectionsClient(t *testing.T) {
	c, h := sandbox(t, wasmhost.PoolOptions{})
	h.AllowHosts("api.example.com")
	big := strings.Repeat("x", 50_000) // larger than the guest's result buffer
	h.HandleHTTPFunc(func(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
		return &pluginsdk.HTTPResponse{Status: 200, Header: map[string][]string{"X-Test": {"yes"}}, Body: []byte(big)}, nil
	})
	res, err := perform(c, context.Background(), "http", `{"url":"https://api.example.com/v1"}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"header":["yes"],"length":50000,"status":200}`; string(res.Output) != want {
		t.Errorf("output %s, want %s", res.Output, want)
	}
	_, err = perform(c, context.Background(), "http", `{"url":"https://evil.example.net/steal"}`)
	pe := asError(t, err)
	if pe.Code != "host_not_allowed" || pe.Retryable || !strings.Contains(pe.Message, "evil.example.net") {
		t.Errorf("forbidden host error = %+v", pe)
	}
	if reqs := h.Requests(); len(reqs) != 2 {
		t.Errorf("host saw %d requests, want 2", len(reqs))
	}
}

func TestNoWayOutOfTheSandbox(t *testing.T) {
	c, _ := sandbox(t, wasmhost.PoolOptions{})
	res, err := perform(c, context.Background(), "escape", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	var report map[string]string
	if err := json.Unmarshal(res.Output, &report); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"readfile", "readdir", "writefile", "dial"} {
		if report[k] == "" {
			t.Errorf("%s succeeded inside the guest: %v", k, report)
		}
	}
	if report["readfile_bytes"] != "0" || report["args"] != "0" {
		t.Errorf("the guest saw host data: %v", report)
	}
	// The environment holds the GC settings the host chose, nothing of its own.
	env := strings.Fields(report["env"])
	if len(env) != 2 || env[0] != "GOGC="+strconv.Itoa(wasmhost.GuestGOGC) || !strings.HasPrefix(env[1], "GOMEMLIMIT=") {
		t.Fatalf("guest environment %q, want GOGC=%d and GOMEMLIMIT only", report["env"], wasmhost.GuestGOGC)
	}
	// ... and the guest's runtime runs with them: a GC percent of GOGC, and
	// a soft memory limit under the instance's 64 MiB hard one.
	if report["gogc"] != strconv.Itoa(wasmhost.GuestGOGC) {
		t.Errorf("guest GC percent %s, want %d", report["gogc"], wasmhost.GuestGOGC)
	}
	limit, err := strconv.ParseInt(report["memlimit"], 10, 64)
	if err != nil || report["memlimit"] != strings.TrimPrefix(env[1], "GOMEMLIMIT=") || limit < 32<<20 || limit > 64<<20*7/8 {
		t.Errorf("guest memory limit %s (env %s), want the GOMEMLIMIT set, between 32 MiB and 7/8 of 64 MiB", report["memlimit"], env[1])
	}
}

// records keeps slog records for assertions.
type records struct {
	mu    sync.Mutex
	lines []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, b.String())
	r.mu.Unlock()
	return nil
}
func (r *records) WithAttrs(as []slog.Attr) slog.Handler { return &withAttrs{r, as} }
func (r *records) WithGroup(string) slog.Handler         { return r }

type withAttrs struct {
	*records
	as []slog.Attr
}

func (w *withAttrs) Handle(ctx context.Context, rec slog.Record) error {
	rec.AddAttrs(w.as...)
	return w.records.Handle(ctx, rec)
}

func TestGuestLogsReachTheConnectionLogger(t *testing.T) {
	m := hostrun.WasmModule(t, sandboxDir)
	c := m.NewConnector(wasmhost.PoolOptions{})
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	rec := &records{}
	h := plugintest.NewHost(t)
	pc := h.Context(nil, pluginsdk.Auth{})
	pc.Log = slog.New(rec)
	if err := c.Configure(context.Background(), pc); err != nil {
		t.Fatal(err)
	}
	if _, err := perform(c, context.Background(), "log", `{}`); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rec.lines, "\n")
	for _, want := range []string{
		"INFO hello from the guest n=42 g.k=v connector=sandbox@0.0.1",
		"INFO guest stdout line=printed to stdout connector=sandbox@0.0.1",
		"WARN guest stderr line=printed to stderr connector=sandbox@0.0.1",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("logs lack %q:\n%s", want, got)
		}
	}
}

func TestKVThroughTheHost(t *testing.T) {
	c, h := sandbox(t, wasmhost.PoolOptions{})
	big := `"` + strings.Repeat("v", 20_000) + `"`
	res, err := perform(c, context.Background(), "kv", big)
	if err != nil {
		t.Fatal(err)
	}
	if string(res.Output) != big {
		t.Errorf("kv round trip lost data (%d bytes back)", len(res.Output))
	}
	if keys := h.Keys(); len(keys) != 0 {
		t.Errorf("keys left: %v", keys)
	}
}

func TestReceiveEnvelopeRoundTrip(t *testing.T) {
	c, _ := sandbox(t, wasmhost.PoolOptions{})
	body := []byte(`{"big":"` + strings.Repeat("é", 40_000) + `"}`) // past the initial request buffer
	req := &pluginsdk.HTTPRequest{
		Method: "POST", URL: "http://h/hooks/x/v1", Path: "/v1", RemoteAddr: "10.0.0.1:1234",
		Query:  map[string][]string{"a": {"1", "2"}, "b": {""}},
		Header: map[string][]string{"X-Id": {"id-1"}, "Content-Type": {"application/json"}},
		Body:   body,
	}
	for i := 0; i < 3; i++ { // the second and third reuse the grown buffer
		res, err := c.Receive(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Events) != 1 || string(res.Events[0].Payload) != string(body) || res.Events[0].DedupKey != "id-1" || res.Events[0].Type != "POST" {
			t.Fatalf("events = %+v", res.Events)
		}
		if res.Response.Status != 201 || string(res.Response.Body) != string(body) || res.Response.Header["Content-Type"][0] != "application/json" {
			t.Fatalf("response = %d %v", res.Response.Status, res.Response.Header)
		}
	}
}

func TestRoleAndLifecycleErrors(t *testing.T) {
	m := hostrun.WasmModule(t, sandboxDir)
	c := m.NewConnector(wasmhost.PoolOptions{})
	if _, err := perform(c, context.Background(), "echo", `{}`); err == nil || !strings.Contains(err.Error(), "before Configure") {
		t.Errorf("call before Configure: %v", err)
	}
	h := plugintest.NewHost(t)
	err := c.Configure(context.Background(), h.Context(json.RawMessage(`{"fail":true}`), pluginsdk.Auth{}))
	if pe := asError(t, err); pe.Code != "config" || pe.Message != "config: fail was set" {
		t.Errorf("configure error = %+v", pe)
	}
	if err := c.Configure(context.Background(), h.Context(nil, pluginsdk.Auth{})); err != nil {
		t.Fatalf("reconfigure: %v", err)
	}
	_, err = c.Fetch(context.Background(), &pluginsdk.FetchRequest{})
	if pe := asError(t, err); pe.Retryable || pe.Message != "connector sandbox does not implement fetch" {
		t.Errorf("fetch error = %+v", pe)
	}
	if err := c.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := perform(c, context.Background(), "echo", `{}`); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("call after Close: %v", err)
	}
}

// A spinning guest must not stall the host's garbage collector: machine code
// has no safe points, so the loop checks yield to Go regularly.
func TestGCWhileAGuestSpins(t *testing.T) {
	c, _ := sandbox(t, wasmhost.PoolOptions{Size: 1, CallTimeout: 2 * time.Second})
	done := make(chan error, 1)
	go func() {
		_, err := perform(c, context.Background(), "loop", `{}`)
		done <- err
	}()
	waitInUse(t, c)
	runtime.GC() // stops the world, spinning guest included
	select {
	case err := <-done:
		t.Fatalf("the loop call ended before the GC could complete (%v): the test proves nothing", err)
	default:
	}
	if pe := asError(t, <-done); pe.Code != "timeout" {
		t.Errorf("loop error = %+v, want a timeout", pe)
	}
}

// waitInUse waits until the pool has a call in flight.
func waitInUse(t *testing.T, c *wasmhost.Connector) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.Stats().InUse == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no call in flight after 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
