package gopluginhost_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// pluginBin is the slack binary, built once per test binary.
var pluginBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "goplugin-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginBin = filepath.Join(dir, "slack")
	code := 1
	if err := buildExample(pluginBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildExample(out string) error {
	cmd := exec.Command("go", "build", "-o", out, "../../../plugins/slack")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build slack: %v\n%s", err, stderr.String())
	}
	return nil
}

// netHTTP is the host's HTTP service for tests: a real client, so the
// plugin's requests reach the test's servers through the host.
type netHTTP struct{}

func (netHTTP) Do(ctx context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &pluginsdk.HTTPResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// funcHTTP adapts a function to pluginsdk.HTTPClient.
type funcHTTP func(ctx context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error)

func (f funcHTTP) Do(ctx context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	return f(ctx, r)
}

// records is a slog.Handler that keeps records for assertions.
type records struct {
	mu  sync.Mutex
	all []slog.Record
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, r.Clone())
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

func (h *records) find(msg string) (slog.Record, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.all {
		if r.Message == msg {
			return r, true
		}
	}
	return slog.Record{}, false
}

// waitFor polls cond until it holds or the test's deadline budget runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
