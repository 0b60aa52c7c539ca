package gopluginhost_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/plugin/gopluginhost"
	"github.com/junctionhub/junction/pluginsdk"
	"go.uber.org/goleak"
)

func start(t *testing.T, o gopluginhost.Options) *gopluginhost.Connector {
	t.Helper()
	o.Path = pluginBin
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := gopluginhost.Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func configure(t *testing.T, c *gopluginhost.Connector, pc *pluginsdk.Context) {
	t.Helper()
	if err := c.Configure(context.Background(), pc); err != nil {
		t.Fatalf("configure: %v", err)
	}
}

func notify(ctx context.Context, c pluginsdk.Performer, text string) (*pluginsdk.PerformResult, error) {
	in, _ := json.Marshal(map[string]any{"text": text, "fields": map[string]string{"order": "A-1"}})
	return c.Perform(ctx, &pluginsdk.PerformRequest{Action: "notify", Input: in, IdempotencyKey: "run-1/notify", Attempt: 1})
}

func TestPerformThroughHostServices(t *testing.T) {
	var got struct {
		body   map[string]any
		header http.Header
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got.body)
		got.header = r.Header
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	logs := &records{}
	c := start(t, gopluginhost.Options{})
	if s := c.Spec(); s.Name != "slack" || !s.HasRole(pluginsdk.RolePerform) {
		t.Fatalf("spec = %+v", s)
	}
	if !c.Direct() {
		t.Error("calls are not on the direct socket")
	}
	cfg, _ := json.Marshal(map[string]string{"url": srv.URL, "username": "Junction"})
	configure(t, c, &pluginsdk.Context{Connection: "chat", Config: cfg, HTTP: netHTTP{}, Log: slog.New(logs)})

	res, err := notify(context.Background(), c, "order paid")
	if err != nil {
		t.Fatalf("perform: %v", err)
	}
	if string(res.Output) != `{"response":"ok","status":200}` {
		t.Errorf("output = %s", res.Output)
	}
	if got.body["text"] != "order paid" || got.body["username"] != "Junction" {
		t.Errorf("posted %v", got.body)
	}
	if k := got.header.Get("Idempotency-Key"); k != "run-1/notify" {
		t.Errorf("Idempotency-Key = %q", k)
	}
	// The connector's ctx.Log record crossed to the host logger with its
	// attributes typed.
	r, ok := logs.find("notified")
	if !ok {
		t.Fatal("the plugin's log record did not reach the host logger")
	}
	attrs := map[string]slog.Value{}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value; return true })
	if attrs["status"].Kind() != slog.KindInt64 || attrs["status"].Int64() != 200 {
		t.Errorf("status attr = %v", attrs["status"])
	}
}

func TestTypedErrorsCrossTheBoundary(t *testing.T) {
	tests := []struct {
		status     int
		header     map[string]string
		code       string
		retryable  bool
		retryAfter time.Duration
	}{
		{status: 503, header: map[string]string{"Retry-After": "7"}, code: "http_503", retryable: true, retryAfter: 7 * time.Second},
		{status: 429, header: map[string]string{"Retry-After": "2"}, code: "rate_limited", retryable: true, retryAfter: 2 * time.Second},
		{status: 404, code: "http_404"},
		{status: 400, code: "http_400"},
	}
	c := start(t, gopluginhost.Options{})
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			fake := funcHTTP(func(ctx context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
				h := map[string][]string{}
				for k, v := range tt.header {
					h[k] = []string{v}
				}
				return &pluginsdk.HTTPResponse{Status: tt.status, Header: h, Body: []byte("nope")}, nil
			})
			configure(t, c, &pluginsdk.Context{Config: json.RawMessage(`{"url":"https://hooks.example.com/x"}`), HTTP: fake})
			_, err := notify(context.Background(), c, "hi")
			var pe *pluginsdk.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %T %v, want *pluginsdk.Error", err, err)
			}
			if pe.Code != tt.code || pe.Retryable != tt.retryable || pe.RetryAfter != tt.retryAfter {
				t.Errorf("err = %+v, want code %s retryable %v retryAfter %s", pe, tt.code, tt.retryable, tt.retryAfter)
			}
		})
	}
}

func TestConfigureNamesMissingKeys(t *testing.T) {
	c := start(t, gopluginhost.Options{})
	err := c.Configure(context.Background(), &pluginsdk.Context{Config: json.RawMessage(`{"timeout":"soon"}`), HTTP: netHTTP{}})
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) || pe.Retryable {
		t.Fatalf("err = %v, want a permanent *pluginsdk.Error", err)
	}
	for _, want := range []string{"url", "timeout"} {
		if !strings.Contains(pe.Message, want) {
			t.Errorf("error %q does not name %s", pe.Message, want)
		}
	}
}

func TestRoleNotDeclared(t *testing.T) {
	c := start(t, gopluginhost.Options{})
	_, err := c.Fetch(context.Background(), &pluginsdk.FetchRequest{})
	if err == nil || pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), "does not implement fetch") {
		t.Fatalf("fetch err = %v, want a permanent not-implemented error", err)
	}
}

// A call's deadline reaches the plugin and, through it, the host HTTP
// request it is waiting on.
func TestDeadlineCancelsTheWholeChain(t *testing.T) {
	cancelled, giveUp := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// net/http notices a client hanging up only once the body is read.
		io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-giveUp:
		}
	}))
	defer srv.Close()
	defer close(giveUp)
	c := start(t, gopluginhost.Options{})
	cfg, _ := json.Marshal(map[string]string{"url": srv.URL, "timeout": "1h"})
	configure(t, c, &pluginsdk.Context{Config: cfg, HTTP: netHTTP{}})

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := notify(ctx, c, "slow")
	// Host and plugin share the deadline: whichever notices first reports
	// it, the host as ctx's error, the connector as its own retryable one.
	if !pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), context.DeadlineExceeded.Error()) {
		t.Fatalf("err = %v, want a retryable deadline error", err)
	}
	select {
	case <-cancelled:
	case <-time.After(20 * time.Second):
		t.Fatal("the upstream request was not cancelled")
	}
}

// Killing the process mid-call fails that call as retryable; the next call
// runs on a restarted, reconfigured process.
func TestCrashMidCallRestarts(t *testing.T) {
	entered := make(chan struct{}, 1)
	block := make(chan struct{})
	fake := funcHTTP(func(ctx context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
		select {
		case <-block:
		default:
			entered <- struct{}{}
			select {
			case <-block:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return &pluginsdk.HTTPResponse{Status: 200, Body: []byte(`{"ok":true}`)}, nil
	})
	c := start(t, gopluginhost.Options{RestartBackoff: gopluginhost.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}})
	configure(t, c, &pluginsdk.Context{Config: json.RawMessage(`{"url":"https://hooks.example.com/x"}`), HTTP: fake})
	pid := c.PID()

	errc := make(chan error, 1)
	go func() {
		_, err := notify(context.Background(), c, "in flight")
		errc <- err
	}()
	<-entered
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-errc
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) || !pe.Retryable || !strings.Contains(pe.Message, "plugin process exited during perform") {
		t.Fatalf("in-flight call: err = %v, want a retryable plugin-exited error", err)
	}

	close(block)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := notify(ctx, c, "after restart")
	if err != nil {
		t.Fatalf("call after restart: %v", err)
	}
	if string(res.Output) != `{"response":{"ok":true},"status":200}` {
		t.Errorf("output = %s", res.Output)
	}
	if c.PID() == pid || c.Restarts() != 1 {
		t.Errorf("pid %d -> %d, restarts %d; want a new process and one restart", pid, c.PID(), c.Restarts())
	}
	assertReaped(t, pid)
}

// A process that dies while idle is noticed by the health check and
// replaced before anyone calls it.
func TestHealthCheckReplacesIdleCrash(t *testing.T) {
	c := start(t, gopluginhost.Options{HealthInterval: 20 * time.Millisecond, RestartBackoff: gopluginhost.Backoff{Min: time.Millisecond, Max: 10 * time.Millisecond}})
	configure(t, c, &pluginsdk.Context{Config: json.RawMessage(`{"url":"https://hooks.example.com/x"}`), HTTP: funcHTTP(func(context.Context, *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
		return &pluginsdk.HTTPResponse{Status: 204}, nil
	})})
	pid := c.PID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a replacement process", func() bool { p := c.PID(); return p != 0 && p != pid })
	if _, err := notify(context.Background(), c, "hi"); err != nil {
		t.Fatalf("perform on the replacement: %v", err)
	}
	assertReaped(t, pid)
}

func TestCloseLeavesNoProcess(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := start(t, gopluginhost.Options{HealthInterval: 10 * time.Millisecond})
	configure(t, c, &pluginsdk.Context{Config: json.RawMessage(`{"url":"https://hooks.example.com/x"}`), Log: slog.New(&records{}),
		HTTP: funcHTTP(func(context.Context, *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
			return &pluginsdk.HTTPResponse{Status: 200}, nil
		})})
	if _, err := notify(context.Background(), c, "hi"); err != nil {
		t.Fatal(err)
	}
	pid := c.PID()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	assertReaped(t, pid)
	if _, err := c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: "notify"}); err == nil || pluginsdk.IsRetryable(err) {
		t.Errorf("perform after close: err = %v, want a permanent error", err)
	}
}

func TestStartRefusesANonPlugin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := gopluginhost.Start(ctx, gopluginhost.Options{Path: "/bin/true"})
	if err == nil {
		t.Fatal("Start(/bin/true) succeeded")
	}
}

// assertReaped checks that pid names no process at all: not running, and
// not a zombie left unwaited.
func assertReaped(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d still exists (kill 0: %v)", pid, err)
	}
}
