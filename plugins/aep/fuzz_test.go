package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// FuzzReceive feeds the parser arbitrary authorized bodies. Seeds: every
// fixture (also committed under testdata/fuzz/FuzzReceive). Receive must
// answer a 4xx error or events that are the posted JSON objects, and never
// panic.
//
//	go test -run '^$' -fuzz '^FuzzReceive$' -fuzztime 20s ./plugins/aep
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
		f.Add(b)
	}
	f.Add([]byte(`[{"identityMap":{}},"x",null]`))
	a := configured(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := post(body)
		res, err := a.Receive(context.Background(), &req)
		if err != nil {
			pe, ok := err.(*pluginsdk.Error)
			if !ok || pe.Status < 400 || pe.Status > 499 {
				t.Fatalf("error %v (%T) is not a 4xx *pluginsdk.Error", err, err)
			}
			return
		}
		if (res.Response.Status == 200) != (len(res.Rejected) == 0) || !json.Valid(res.Response.Body) {
			t.Fatalf("status %d, %d rejected, body %q", res.Response.Status, len(res.Rejected), res.Response.Body)
		}
		for _, ev := range res.Events {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(ev.Payload, &m); err != nil {
				t.Fatalf("payload %q is not a JSON object: %v", ev.Payload, err)
			}
			if ev.DedupKey == "" {
				t.Fatal("an event without a dedup key")
			}
		}
	})
}
