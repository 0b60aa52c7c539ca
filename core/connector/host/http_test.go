package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// newServer starts a loopback server and closes it (and the client's kept
// connections) when the test ends.
func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, o HTTPOptions) *HTTPClient {
	t.Helper()
	if o.Connection == "" {
		o.Connection = "crm-out"
	}
	c := NewHTTPClient(o)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// wantError asserts err is a *pluginsdk.Error with the code and retryability.
func wantError(t *testing.T, err error, code string, retryable bool) *pluginsdk.Error {
	t.Helper()
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *pluginsdk.Error", err, err)
	}
	if pe.Code != code || pe.Retryable != retryable {
		t.Fatalf("err = %+v, want code %q retryable %v", pe, code, retryable)
	}
	return pe
}

func echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("X-Method", r.Method)
	w.Header().Set("X-Query", r.URL.RawQuery)
	w.Header().Set("X-Got-Header", r.Header.Get("X-Test"))
	w.WriteHeader(http.StatusCreated)
	w.Write(body)
}

func TestLoopbackNeedsAllowPrivate(t *testing.T) {
	srv := newServer(t, echo)
	ctx := context.Background()
	req := &pluginsdk.HTTPRequest{Method: "POST", URL: srv.URL + "/x?a=1", Body: []byte(`{"n":1}`),
		Header: map[string][]string{"X-Test": {"yes"}}, Query: map[string][]string{"b": {"2"}}}

	_, err := newClient(t, HTTPOptions{}).Do(ctx, req)
	pe := wantError(t, err, "egress_denied", false)
	if !strings.Contains(pe.Message, "127.0.0.1 is loopback") || !strings.HasPrefix(pe.Message, "connection crm-out: ") {
		t.Errorf("message %q should name the connection and the loopback address", pe.Message)
	}

	for name, o := range map[string]HTTPOptions{
		"allow_private": {AllowPrivate: true},
		"allow_nets":    {AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := newClient(t, o).Do(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header(resp.Header)
			if resp.Status != 201 || string(resp.Body) != `{"n":1}` || h.Get("X-Method") != "POST" ||
				h.Get("X-Got-Header") != "yes" || h.Get("X-Query") != "a=1&b=2" {
				t.Errorf("resp = %d %q %v", resp.Status, resp.Body, resp.Header)
			}
		})
	}
}

func TestNameResolvingToLoopbackIsRefused(t *testing.T) {
	srv := newServer(t, echo)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	// The URL names no IP: only the dial-time check can see where it goes.
	_, err := newClient(t, HTTPOptions{}).Do(context.Background(), &pluginsdk.HTTPRequest{URL: "http://localhost:" + port + "/"})
	pe := wantError(t, err, "egress_denied", false)
	if !strings.Contains(pe.Message, "is loopback") {
		t.Errorf("message %q should say loopback", pe.Message)
	}
}

func TestURLPolicy(t *testing.T) {
	tests := []struct {
		name  string
		allow []string
		url   string
		want  string
	}{
		{"allow-list", []string{"api.example.com"}, "https://evil.example/x", `connection crm-out: host "evil.example" is not in network.allow_hosts`},
		{"allow-list wildcard apex", []string{"*.example.com"}, "https://example.com/", `host "example.com" is not in network.allow_hosts`},
		{"scheme file", nil, "file:///etc/passwd", `scheme "file" is not allowed`},
		{"scheme gopher", nil, "gopher://example.com/", `scheme "gopher" is not allowed`},
		{"no host", nil, "http:///path", "has no host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newClient(t, HTTPOptions{AllowHosts: tt.allow}).Do(context.Background(), &pluginsdk.HTTPRequest{URL: tt.url})
			pe := wantError(t, err, "egress_denied", false)
			if !strings.Contains(pe.Message, tt.want) {
				t.Errorf("message %q does not contain %q", pe.Message, tt.want)
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	var srvURL string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case r.URL.Path == "/other-host":
			http.Redirect(w, r, strings.Replace(srvURL, "127.0.0.1", "localhost", 1)+"/done", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hop/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
			if n == 0 {
				fmt.Fprint(w, "arrived")
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	})
	srvURL = srv.URL
	// Only the test server's own address is opened; everything else keeps
	// the default policy.
	loopbackOnly := HTTPOptions{AllowNets: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	ctx := context.Background()

	t.Run("to cloud metadata", func(t *testing.T) {
		_, err := newClient(t, loopbackOnly).Do(ctx, &pluginsdk.HTTPRequest{URL: srv.URL + "/metadata"})
		pe := wantError(t, err, "egress_denied", false)
		if !strings.Contains(pe.Message, "169.254.169.254 is link-local") {
			t.Errorf("message %q should name the metadata address", pe.Message)
		}
	})
	t.Run("to a host off the allow-list", func(t *testing.T) {
		o := HTTPOptions{AllowPrivate: true, AllowHosts: []string{"127.0.0.1"}}
		_, err := newClient(t, o).Do(ctx, &pluginsdk.HTTPRequest{URL: srv.URL + "/other-host"})
		pe := wantError(t, err, "egress_denied", false)
		if !strings.Contains(pe.Message, `host "localhost:`) {
			t.Errorf("message %q", pe.Message)
		}
	})
	t.Run("five hops followed", func(t *testing.T) {
		resp, err := newClient(t, loopbackOnly).Do(ctx, &pluginsdk.HTTPRequest{URL: srv.URL + "/hop/5"})
		if err != nil || string(resp.Body) != "arrived" {
			t.Fatalf("5 redirects: resp %v err %v", resp, err)
		}
	})
	t.Run("six hops refused", func(t *testing.T) {
		_, err := newClient(t, loopbackOnly).Do(ctx, &pluginsdk.HTTPRequest{URL: srv.URL + "/hop/6"})
		pe := wantError(t, err, "egress_denied", false)
		if !strings.Contains(pe.Message, "stopped after 5 redirects") {
			t.Errorf("message %q", pe.Message)
		}
	})
}

func TestResponseSizeCap(t *testing.T) {
	const limit = 1024
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Query().Get("chunked") != "" {
			// Flushing before writing the body drops Content-Length, so
			// only the read-side limit can catch it.
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
		}
		w.Write([]byte(strings.Repeat("x", n)))
	})
	c := newClient(t, HTTPOptions{AllowPrivate: true, MaxResponseBytes: limit})
	tests := []struct {
		query string
		ok    bool
	}{
		{"n=1024", true},
		{"n=1025", false},
		{"n=1024&chunked=1", true},
		{"n=1025&chunked=1", false},
		{"n=100000&chunked=1", false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp, err := c.Do(context.Background(), &pluginsdk.HTTPRequest{URL: srv.URL + "/?" + tt.query})
			if tt.ok {
				if err != nil || len(resp.Body) != limit {
					t.Fatalf("resp %v err %v; want %d bytes", resp, err, limit)
				}
				return
			}
			pe := wantError(t, err, "response_too_large", false)
			if !strings.Contains(pe.Message, "1024-byte limit") {
				t.Errorf("message %q", pe.Message)
			}
		})
	}
}

func TestTimeoutIsRetryable(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close: handlers return first
	for name, o := range map[string]struct {
		opts HTTPOptions
		req  time.Duration
	}{
		"per request":    {HTTPOptions{AllowPrivate: true}, 50 * time.Millisecond},
		"client default": {HTTPOptions{AllowPrivate: true, DefaultTimeout: 50 * time.Millisecond}, 0},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := newClient(t, o.opts).Do(context.Background(), &pluginsdk.HTTPRequest{URL: srv.URL, Timeout: o.req})
			pe := wantError(t, err, "timeout", true)
			if !strings.Contains(pe.Message, "timed out after 50ms") {
				t.Errorf("message %q", pe.Message)
			}
		})
	}
}

func TestNetworkErrorIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connection refused
	_, err = newClient(t, HTTPOptions{AllowPrivate: true}).Do(context.Background(), &pluginsdk.HTTPRequest{URL: "http://" + addr})
	wantError(t, err, "network", true)
}

func TestCallerCancelIsRetryable(t *testing.T) {
	srv := newServer(t, echo)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newClient(t, HTTPOptions{AllowPrivate: true}).Do(ctx, &pluginsdk.HTTPRequest{URL: srv.URL})
	wantError(t, err, "canceled", true)
}

func TestNon2xxIsAResponse(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":"slow down"}`)
	})
	resp, err := newClient(t, HTTPOptions{AllowPrivate: true}).Do(context.Background(), &pluginsdk.HTTPRequest{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 429 || string(resp.Body) != `{"error":"slow down"}` || http.Header(resp.Header).Get("Retry-After") != "7" {
		t.Errorf("resp = %d %q %v", resp.Status, resp.Body, resp.Header)
	}
}

func TestTLSVerificationFailureIsPermanent(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(echo))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failure is the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, err := newClient(t, HTTPOptions{AllowPrivate: true}).Do(context.Background(), &pluginsdk.HTTPRequest{URL: srv.URL})
	wantError(t, err, "tls", false)
}

// recorder is a slog.Handler keeping every record.
type recorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func TestEveryCallIsLogged(t *testing.T) {
	srv := newServer(t, echo)
	rec := &recorder{}
	c := newClient(t, HTTPOptions{AllowPrivate: true, AllowHosts: []string{"127.0.0.1"}, Logger: slog.New(rec)})
	ctx := context.Background()
	if _, err := c.Do(ctx, &pluginsdk.HTTPRequest{Method: "PUT", URL: srv.URL}); err != nil {
		t.Fatal(err)
	}
	c.Do(ctx, &pluginsdk.HTTPRequest{URL: "https://evil.example/"})

	if len(rec.recs) != 2 {
		t.Fatalf("%d records, want 2", len(rec.recs))
	}
	want := []map[string]string{
		{"connection": "crm-out", "method": "PUT", "host": srv.Listener.Addr().String(), "status": "201"},
		{"connection": "crm-out", "method": "GET", "host": "evil.example", "retryable": "false"},
	}
	for i, r := range rec.recs {
		if r.Level != slog.LevelDebug {
			t.Errorf("record %d level %v, want debug", i, r.Level)
		}
		got := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value.String(); return true })
		if _, ok := got["duration"]; !ok {
			t.Errorf("record %d has no duration: %v", i, got)
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("record %d %s = %q, want %q (all: %v)", i, k, got[k], v, got)
			}
		}
	}
}

func BenchmarkDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	c := NewHTTPClient(HTTPOptions{AllowPrivate: true})
	defer c.CloseIdleConnections()
	req := &pluginsdk.HTTPRequest{Method: "POST", URL: srv.URL, Body: []byte(`{"order":"A-1","amount":12.5}`)}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		if _, err := c.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
