package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

const (
	user  = "aep-user"
	token = "aep-api-token"
)

var goodAuth = pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: user, Password: token}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func basic(u, p string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(u+":"+p))
}

// post is what the AEP destination sends.
func post(body []byte) pluginsdk.HTTPRequest {
	return pluginsdk.HTTPRequest{Method: "POST", URL: "http://junction.test/hooks/test", Body: body,
		Header: map[string][]string{"Content-Type": {"application/json"}, "Authorization": {basic(user, token)}}}
}

func configured(t testing.TB) *AEP {
	t.Helper()
	a := &AEP{}
	if err := a.Configure(context.Background(), plugintest.NewHost(t).Context(json.RawMessage(`{"dedup_window":"24h"}`), goodAuth)); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestFixtures: each profile is one event, kept byte for byte, and the
// paths the README documents read what AEP sent.
func TestFixtures(t *testing.T) {
	a := configured(t)
	const segment = "046456e3b-18e1-48a6-9bda-d68547861283"
	tests := []struct {
		file, email, first, status string
	}{
		{"realized.json", "dave.jensen@example.com", "Dave", "realized"},
		{"exited.json", "dave.jensen@example.com", "Dave", "exited"},
		{"seed-doc-example.json", "Email-2Sf6C", "Dave", "realized"},
	}
	keys := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body := fixture(t, tt.file)
			req := post(body)
			res, err := a.Receive(context.Background(), &req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 1 || res.Response.Status != 200 {
				t.Fatalf("%d events, status %d", len(res.Events), res.Response.Status)
			}
			ev := res.Events[0]
			if string(ev.Payload) != strings.TrimSpace(string(body)) {
				t.Errorf("payload changed: %s", ev.Payload)
			}
			if ev.Type != "profile" || !strings.HasPrefix(ev.DedupKey, "sha256:") || keys[ev.DedupKey] {
				t.Errorf("type %q dedup %q", ev.Type, ev.DedupKey)
			}
			keys[ev.DedupKey] = true
			var p struct {
				Person struct {
					Name struct{ FirstName string }
				}
				IdentityMap struct {
					Email []struct{ ID string }
				}
				SegmentMembership struct {
					Ups map[string]struct{ Status string }
				}
			}
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if p.IdentityMap.Email[0].ID != tt.email || p.Person.Name.FirstName != tt.first || p.SegmentMembership.Ups[segment].Status != tt.status {
				t.Errorf("profile %+v", p)
			}
		})
	}
	// The same profile again has the same key: the host drops it.
	req := post(fixture(t, "realized.json"))
	res, _ := a.Receive(context.Background(), &req)
	if !keys[res.Events[0].DedupKey] {
		t.Error("a redelivered profile got a new dedup key")
	}
}

func TestRefusals(t *testing.T) {
	a := configured(t)
	realized := fixture(t, "realized.json")
	with := func(r pluginsdk.HTTPRequest, authz string) pluginsdk.HTTPRequest {
		r.Header = map[string][]string{"Authorization": {authz}}
		return r
	}
	tests := []struct {
		name   string
		req    pluginsdk.HTTPRequest
		status int
		says   string
	}{
		{"no credentials", with(post(realized), ""), 401, "basic credentials"},
		{"wrong token", with(post(realized), basic(user, "nope")), 401, "basic credentials"},
		{"wrong user", with(post(realized), basic("nope", token)), 401, "basic credentials"},
		{"no colon", with(post(realized), "Basic "+base64.StdEncoding.EncodeToString([]byte(user+token))), 401, "basic credentials"},
		{"bearer", with(post(realized), "Bearer "+token), 401, "basic credentials"},
		{"malformed JSON", post([]byte(`{"person": {"name": `)), 400, "malformed request"},
		{"not an object", post([]byte(`"profile"`)), 400, "JSON object"},
		{"empty", post(nil), 400, "empty"},
		{"empty array", post([]byte(`[]`)), 400, "no profiles"},
		{"sub-path", func() pluginsdk.HTTPRequest { r := post(realized); r.Path = "/v1/x"; return r }(), 404, "hook URL"},
		{"GET", func() pluginsdk.HTTPRequest { r := post(realized); r.Method = "GET"; return r }(), 405, "POST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			_, err := a.Receive(context.Background(), &req)
			if err == nil {
				t.Fatalf("accepted, want %d", tt.status)
			}
			if pe := pluginsdk.AsError(err); pe.Status != tt.status || !strings.Contains(pe.Message, tt.says) {
				t.Errorf("error %d %q, want %d saying %q", pe.Status, pe.Message, tt.status, tt.says)
			}
		})
	}
}

func TestArrayOfProfiles(t *testing.T) {
	a := configured(t)
	body := "[" + string(fixture(t, "realized.json")) + `, 3, ` + string(fixture(t, "exited.json")) + "]"
	req := post([]byte(body))
	res, err := a.Receive(context.Background(), &req)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 2 || len(res.Rejected) != 1 || res.Rejected[0].Index != 1 || res.Response.Status != 400 {
		t.Fatalf("events %d rejected %+v status %d", len(res.Events), res.Rejected, res.Response.Status)
	}
	if !strings.Contains(string(res.Response.Body), `"accepted":2`) || !json.Valid(res.Response.Body) {
		t.Errorf("answer %s", res.Response.Body)
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name   string
		config string
		auth   pluginsdk.Auth
		says   string
	}{
		{"good", `{"dedup_window":"12h","pool_size":2}`, goodAuth, ""},
		{"no auth", `{}`, pluginsdk.Auth{}, "basic"},
		{"api key", `{}`, pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "x"}, "basic"},
		{"no username", `{}`, pluginsdk.Auth{Type: pluginsdk.AuthBasic, Password: "p"}, "username"},
		{"no password", `{}`, pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "u"}, "password"},
		{"unknown key", `{"segment":"x"}`, goodAuth, "segment"},
		{"bad window", `{"dedup_window":"1 day"}`, goodAuth, "dedup_window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (&AEP{}).Configure(context.Background(), plugintest.NewHost(t).Context(json.RawMessage(tt.config), tt.auth))
			switch {
			case tt.says == "" && err != nil:
				t.Errorf("Configure: %v", err)
			case tt.says != "" && (err == nil || !strings.Contains(err.Error(), tt.says)):
				t.Errorf("Configure error %v, want one naming %q", err, tt.says)
			}
		})
	}
}

func target(t *testing.T) plugintest.Target {
	return plugintest.Target{
		Config: json.RawMessage(`{"dedup_window":"24h"}`),
		Auth:   goodAuth,
		BadConfigs: []plugintest.BadConfig{
			{Config: json.RawMessage(`{"dedup_windw":"1h"}`), WantMissing: []string{"dedup_windw"}},
		},
		Authorize: func(req *pluginsdk.HTTPRequest) {
			if req.Header == nil {
				req.Header = map[string][]string{}
			}
			if _, set := req.Header["Authorization"]; !set {
				req.Header["Authorization"] = []string{basic(user, token)}
			}
		},
		Receive: []plugintest.ReceiveCase{
			{Name: "realized", Request: post(fixture(t, "realized.json")), WantEvents: 1},
			{Name: "exited", Request: post(fixture(t, "exited.json")), WantEvents: 1},
			{Name: "wrong token", Request: func() pluginsdk.HTTPRequest {
				r := post(fixture(t, "realized.json"))
				r.Header = map[string][]string{"Authorization": {basic(user, "x")}}
				return r
			}(), WantStatus: 401},
			{Name: "malformed", Request: post([]byte(`{"identityMap":`)), WantStatus: 400},
		},
	}
}

func TestAcceptanceNative(t *testing.T) {
	tg := target(t)
	native := plugintest.Native("native", func() pluginsdk.Connector { return &AEP{} })
	tg.Name, tg.New, tg.Native = native.Name, native.New, native.Native
	plugintest.Acceptance(t, tg)
}

func TestAcceptanceWasm(t *testing.T) {
	tg := target(t)
	tg.Name, tg.New = "wasm", hostrun.Wasm(t, ".")
	plugintest.Acceptance(t, tg)
}

// TestFormsAgree compares the native and the Wasm build byte for byte.
func TestFormsAgree(t *testing.T) {
	newWasm := hostrun.Wasm(t, ".")
	realized := fixture(t, "realized.json")
	bodies := [][]byte{realized, fixture(t, "exited.json"), fixture(t, "seed-doc-example.json"),
		[]byte("[" + string(realized) + ",1]"), []byte(`{bad`), []byte(`[]`)}
	forms := map[string]pluginsdk.Connector{"native": &AEP{}, "wasm": newWasm(t)}
	results := map[string][]string{}
	for name, c := range forms {
		if err := c.Configure(context.Background(), plugintest.NewHost(t).Context(nil, goodAuth)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, b := range bodies {
			req := post(b)
			res, err := c.(pluginsdk.Receiver).Receive(context.Background(), &req)
			out, _ := json.Marshal(struct {
				Res *pluginsdk.ReceiveResult
				Err error
			}{res, err})
			results[name] = append(results[name], string(out))
		}
	}
	for i := range bodies {
		if results["native"][i] != results["wasm"][i] {
			t.Errorf("body %d:\nnative %.400s\nwasm   %.400s", i, results["native"][i], results["wasm"][i])
		}
	}
}
