package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// FuzzReceive feeds the parser arbitrary bodies on every endpoint, signed
// and with the write key so they get past authentication. Seeds: every
// fixture (also committed under testdata/fuzz/FuzzReceive). Whatever the
// input, Receive must answer a 4xx error or events that are JSON objects
// of a known call type without the write key, and never panic.
//
//	go test -run '^$' -fuzz '^FuzzReceive$' -fuzztime 20s ./plugins/segment
func FuzzReceive(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		path := ""
		if strings.Contains(n, "batch") {
			path = "/v1/batch"
		}
		f.Add(path, b)
	}
	f.Add("/v1/identify", []byte(`{"userId":"u","writeKey":"WRITE_KEY_EXAMPLE"}`))
	f.Add("/v1/track", []byte(`{}`))
	f.Add("", []byte(`[{"type":"page","anonymousId":"a"},1,null]`))
	s := configured(f, goodConfig, goodAuth)
	f.Fuzz(func(t *testing.T, path string, body []byte) {
		req := sdkPost(path, body)
		req.Header["X-Signature"] = []string{sign(sharedSecret, body)}
		res, err := s.Receive(context.Background(), &req)
		if err != nil {
			pe, ok := err.(*pluginsdk.Error)
			if !ok || pe.Status < 400 || pe.Status > 499 {
				t.Fatalf("error %v (%T) is not a 4xx *pluginsdk.Error", err, err)
			}
			return
		}
		if (res.Response.Status == 200) != (len(res.Rejected) == 0) || (res.Response.Status != 200 && res.Response.Status != 400) {
			t.Fatalf("status %d with %d rejected", res.Response.Status, len(res.Rejected))
		}
		if !json.Valid(res.Response.Body) {
			t.Fatalf("response body %q is not JSON", res.Response.Body)
		}
		for i := 1; i < len(res.Rejected); i++ {
			if res.Rejected[i].Index <= res.Rejected[i-1].Index {
				t.Fatalf("rejected indexes out of order: %+v", res.Rejected)
			}
		}
		for _, ev := range res.Events {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(ev.Payload, &m); err != nil {
				t.Fatalf("payload %q: %v", ev.Payload, err)
			}
			var typ string
			if json.Unmarshal(m["type"], &typ) != nil || typ != ev.Type || !contains(callTypes, typ) {
				t.Fatalf("payload type %s, event type %q", m["type"], ev.Type)
			}
			if _, has := m["writeKey"]; has {
				t.Fatalf("a writeKey was kept: %q", ev.Payload)
			}
		}
	})
}
