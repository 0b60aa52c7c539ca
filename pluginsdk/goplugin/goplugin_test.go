package goplugin

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/junctionhub/junction/pluginsdk"
)

// fake is a connector with every role, whose actions exercise each host
// service and failure mode.
type fake struct {
	pc      *pluginsdk.Context
	entered chan struct{}
	ended   chan error
}

func (f *fake) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "fake", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Direction: pluginsdk.Bidirectional,
		Roles: []string{pluginsdk.RoleReceive, pluginsdk.RoleFetch, pluginsdk.RoleMetadata, pluginsdk.RolePerform}}
}

func (f *fake) Configure(_ context.Context, pc *pluginsdk.Context) error {
	if string(pc.Config) == `{"bad":true}` {
		return &pluginsdk.Error{Code: "invalid_config", Message: "missing key url"}
	}
	f.pc = pc
	return nil
}

func (f *fake) Receive(_ context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if r.HeaderValue("X-Key") != "k" {
		return nil, pluginsdk.Unauthorized("bad key")
	}
	return &pluginsdk.ReceiveResult{
		Events:   []pluginsdk.Event{{Payload: r.Body, DedupKey: "m1", Type: "track", Time: time.Unix(1700000000, 0).UTC()}},
		Response: pluginsdk.HTTPResponse{Status: 200, Body: []byte("ok")},
	}, nil
}

func (f *fake) Fetch(_ context.Context, r *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	return &pluginsdk.FetchResult{Events: []pluginsdk.Event{{Payload: json.RawMessage(`{"n":1}`)}}, Cursor: append(r.Cursor, 'x'), More: true}, nil
}

func (f *fake) Metadata(context.Context) (*pluginsdk.MetadataResult, error) {
	return &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{{Name: "Case"}}}, nil
}

func (f *fake) Perform(ctx context.Context, r *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	switch r.Action {
	case "http":
		resp, err := f.pc.HTTP.Do(ctx, &pluginsdk.HTTPRequest{Method: "GET", URL: "https://api.example.com/x"})
		if err != nil {
			return nil, err
		}
		return &pluginsdk.PerformResult{Output: resp.Body}, nil
	case "kv":
		if err := f.pc.KV.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
			return nil, err
		}
		v, found, err := f.pc.KV.Get(ctx, "k")
		if err != nil || !found {
			return nil, errors.Join(errors.New("kv get"), err)
		}
		if err := f.pc.KV.Delete(ctx, "k"); err != nil {
			return nil, err
		}
		return &pluginsdk.PerformResult{Output: json.RawMessage(`"` + string(v) + `"`)}, nil
	case "log":
		f.pc.Log.WithGroup("req").With("id", 7).Info("hello", "ok", true, slog.Group("g", "d", time.Second))
		f.pc.Log.Debug("dropped before it crosses")
		return &pluginsdk.PerformResult{}, nil
	case "panic":
		panic("boom")
	case "block":
		f.entered <- struct{}{}
		<-ctx.Done()
		f.ended <- ctx.Err()
		return nil, ctx.Err()
	case "rate":
		return nil, &pluginsdk.Error{Code: "rate_limited", Message: "slow down", Retryable: true, RetryAfter: 3 * time.Second}
	}
	return nil, pluginsdk.Errorf("unknown action %q", r.Action)
}

// hostHTTP answers every request with the URL it was asked for.
type hostHTTP struct{}

func (hostHTTP) Do(_ context.Context, r *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	return &pluginsdk.HTTPResponse{Status: 200, Body: []byte(`"` + r.URL + `"`)}, nil
}

type memKV struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (k *memKV) Get(_ context.Context, key string) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	return v, ok, nil
}
func (k *memKV) Set(_ context.Context, key string, v []byte, _ time.Duration) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[key] = v
	return nil
}
func (k *memKV) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return nil
}

type records struct {
	mu  sync.Mutex
	all []slog.Record
}

func (h *records) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }
func (h *records) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, r.Clone())
	return nil
}
func (h *records) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *records) WithGroup(string) slog.Handler      { return h }

// connect serves f in memory over go-plugin's net/rpc, on the multiplexed
// connection (direct false) or the direct socket, and returns the host's
// client.
func connect(t *testing.T, f *fake, direct bool) *Client {
	t.Helper()
	p := &ConnectorPlugin{Impl: f}
	if direct {
		p.ep = &endpoint{}
		t.Cleanup(p.ep.close)
	}
	client, _ := plugin.TestPluginRPCConn(t, plugin.PluginSet{PluginName: p}, nil)
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	c := raw.(*Client)
	if c.Direct() != direct {
		t.Fatalf("Direct() = %v, want %v", c.Direct(), direct)
	}
	t.Cleanup(func() {
		client.Close()
		c.Close()
		c.Wait()
	})
	return c
}

func TestCallsCrossTyped(t *testing.T) {
	for _, direct := range []bool{false, true} {
		name := map[bool]string{false: "mux", true: "direct"}[direct]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			c := connect(t, &fake{}, direct)
			if s, err := c.Spec(ctx); err != nil || s.Name != "fake" {
				t.Fatalf("Spec = %+v, %v", s, err)
			}
			err := c.Configure(ctx, &pluginsdk.Context{Config: json.RawMessage(`{"bad":true}`)})
			var pe *pluginsdk.Error
			if !errors.As(err, &pe) || pe.Code != "invalid_config" || pe.Retryable {
				t.Fatalf("Configure(bad) = %v", err)
			}
			logs := &records{}
			if err := c.Configure(ctx, &pluginsdk.Context{HTTP: hostHTTP{}, KV: &memKV{m: map[string][]byte{}}, Log: slog.New(logs)}); err != nil {
				t.Fatal(err)
			}

			_, err = c.Receive(ctx, &pluginsdk.HTTPRequest{Method: "POST"})
			if !errors.As(err, &pe) || pe.Status != 401 || pe.Code != "unauthorized" {
				t.Errorf("Receive without key = %v", err)
			}
			res, err := c.Receive(ctx, &pluginsdk.HTTPRequest{Method: "POST", Header: map[string][]string{"X-Key": {"k"}}, Body: []byte(`{"a":1}`)})
			if err != nil || len(res.Events) != 1 || string(res.Events[0].Payload) != `{"a":1}` ||
				!res.Events[0].Time.Equal(time.Unix(1700000000, 0)) || res.Response.Status != 200 {
				t.Errorf("Receive = %+v, %v", res, err)
			}
			fr, err := c.Fetch(ctx, &pluginsdk.FetchRequest{Cursor: []byte("ab")})
			if err != nil || string(fr.Cursor) != "abx" || !fr.More {
				t.Errorf("Fetch = %+v, %v", fr, err)
			}
			if md, err := c.Metadata(ctx); err != nil || md.Entities[0].Name != "Case" {
				t.Errorf("Metadata = %+v, %v", md, err)
			}

			_, err = c.Perform(ctx, &pluginsdk.PerformRequest{Action: "rate"})
			if !errors.As(err, &pe) || !pe.Retryable || pe.RetryAfter != 3*time.Second || pe.Code != "rate_limited" {
				t.Errorf("Perform(rate) = %+v", err)
			}
			if out, err := c.Perform(ctx, &pluginsdk.PerformRequest{Action: "http"}); err != nil || string(out.Output) != `"https://api.example.com/x"` {
				t.Errorf("Perform(http) = %v, %v", out, err)
			}
			if out, err := c.Perform(ctx, &pluginsdk.PerformRequest{Action: "kv"}); err != nil || string(out.Output) != `"v"` {
				t.Errorf("Perform(kv) = %v, %v", out, err)
			}
			if _, err := c.Perform(ctx, &pluginsdk.PerformRequest{Action: "log"}); err != nil {
				t.Fatal(err)
			}
			logs.mu.Lock()
			if len(logs.all) != 1 {
				t.Fatalf("%d records reached the host, want 1", len(logs.all))
			}
			var attrs []string
			logs.all[0].Attrs(func(a slog.Attr) bool { attrs = append(attrs, a.Key+"="+a.Value.String()); return true })
			logs.mu.Unlock()
			if got := strings.Join(attrs, " "); got != "req.id=7 req.ok=true req.g.d=1s" {
				t.Errorf("attrs = %s", got)
			}

			_, err = c.Perform(ctx, &pluginsdk.PerformRequest{Action: "panic"})
			if !errors.As(err, &pe) || pe.Code != "panic" || !strings.Contains(pe.Message, "boom") {
				t.Errorf("Perform(panic) = %v", err)
			}
			if _, err := c.Perform(ctx, &pluginsdk.PerformRequest{Action: "kv"}); err != nil {
				t.Errorf("after a panic: %v", err)
			}
		})
	}
}

// A caller that gives up cancels the connector's context on the other side.
func TestCancelCrosses(t *testing.T) {
	f := &fake{entered: make(chan struct{}, 1), ended: make(chan error, 1)}
	c := connect(t, f, true)
	if err := c.Configure(context.Background(), &pluginsdk.Context{}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Perform(ctx, &pluginsdk.PerformRequest{Action: "block"})
		errc <- err
	}()
	<-f.entered
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("caller got %v, want context.Canceled", err)
	}
	if err := <-f.ended; !errors.Is(err, context.Canceled) {
		t.Errorf("connector's context ended with %v, want context.Canceled", err)
	}
}

// A direct connection without the token is refused.
func TestDirectNeedsTheToken(t *testing.T) {
	c := connect(t, &fake{}, true)
	ep := *c.ep
	ep.Token = make([]byte, tokenSize)
	if conn, err := dialDirect(&ep, directCalls, 0); err == nil {
		conn.Close()
		t.Fatal("a connection with a wrong token was accepted")
	}
}
