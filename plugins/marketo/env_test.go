package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// form is one way the connector is built: natively, or to Wasm and run
// under wazero from a pool of instances.
type form struct {
	name string
	new  func(t *testing.T) pluginsdk.Connector
}

func forms(t *testing.T) []form {
	t.Helper()
	return []form{
		{"native", func(*testing.T) pluginsdk.Connector { return New() }},
		{"wasm", hostrun.Wasm(t, ".")},
	}
}

// env is a connection to a fake Marketo: outbound HTTP goes through the
// host's guarded client with loopback allowed (what `network:
// {allow_private: true}` gives a connection), KV and logs come from
// plugintest. Connectors configured from one env share its KV, as the
// instances of one connection do.
type env struct {
	f *fakeMarketo
	h *plugintest.Host
}

func newEnv(t *testing.T) *env {
	t.Helper()
	f := newFakeMarketo(t)
	h := plugintest.NewHost(t)
	useHostHTTP(t, h)
	return &env{f: f, h: h}
}

// useHostHTTP answers h's outbound requests with Junction's real HTTP client,
// allowed onto loopback; h still records every request.
func useHostHTTP(t testing.TB, h *plugintest.Host) {
	client := host.NewHTTPClient(host.HTTPOptions{AllowHosts: []string{"127.0.0.1"}, AllowPrivate: true, Connection: "test", Logger: h.Logger()})
	t.Cleanup(client.CloseIdleConnections)
	h.HandleHTTPFunc(client.Do)
}

func testAuth() pluginsdk.Auth {
	return pluginsdk.Auth{Type: pluginsdk.AuthOAuth2, ClientID: testClientID, ClientSecret: testClientSecret}
}

// config is a good config for the fake, with extra members merged in.
func (e *env) config(t testing.TB, extra map[string]any) json.RawMessage {
	t.Helper()
	cfg := map[string]any{"base_url": e.f.URL(), "since": "2026-03-01T00:00:00Z"}
	for k, v := range extra {
		cfg[k] = v
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// connect configures a fresh connector of fm against the env.
func (e *env) connect(t *testing.T, fm form, extra map[string]any) pluginsdk.Connector {
	t.Helper()
	c := fm.new(t)
	if err := c.Configure(context.Background(), e.h.Context(e.config(t, extra), testAuth())); err != nil {
		t.Fatalf("Configure: %v", err)
	}
	return c
}

func perform(t *testing.T, c pluginsdk.Connector, action, input string) (*pluginsdk.PerformResult, error) {
	t.Helper()
	return c.(pluginsdk.Performer).Perform(context.Background(), &pluginsdk.PerformRequest{Action: action, Input: json.RawMessage(input), Attempt: 1})
}

func mustPerform(t *testing.T, c pluginsdk.Connector, action, input string) string {
	t.Helper()
	res, err := perform(t, c, action, input)
	if err != nil {
		t.Fatalf("Perform(%s): %v", action, err)
	}
	return string(res.Output)
}

func fetch(t *testing.T, c pluginsdk.Connector, entity string, cursor []byte) *pluginsdk.FetchResult {
	t.Helper()
	res, err := c.(pluginsdk.Fetcher).Fetch(context.Background(), &pluginsdk.FetchRequest{Entity: entity, Cursor: cursor})
	if err != nil {
		t.Fatalf("Fetch(%s): %v", entity, err)
	}
	return res
}

// asError returns err as a *pluginsdk.Error, failing the test otherwise.
func asError(t *testing.T, err error) *pluginsdk.Error {
	t.Helper()
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *pluginsdk.Error", err, err)
	}
	return pe
}

// jsonEqual compares two JSON documents semantically.
func jsonEqual(t *testing.T, what string, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("%s: want: %v", what, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("%s:\n got  %s\n want %s", what, gb, wb)
	}
}
