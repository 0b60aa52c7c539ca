package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/junctionhub/junction/pluginsdk/fields"
)

// FuzzParseResponse feeds arbitrary bodies to the REST response parser and
// everything that reads its result: it must never panic, accept only valid
// JSON, and build only valid JSON events and outputs. Seeded with every
// response fixture (testdata/*.json) and testdata/fuzz/FuzzParseResponse.
func FuzzParseResponse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseResponse(body)
		if err != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		if !r.success {
			if pe := errorOf("GET /x", r); pe.Message == "" {
				t.Fatal("empty error message")
			}
		}
		if r.result == nil {
			return
		}
		items, err := fields.Elements(r.result)
		if err != nil {
			t.Fatalf("result %q is not an array: %v", r.result, err)
		}
		if evs, err := activityEvents(items); err == nil {
			for _, ev := range evs {
				var p struct {
					Entity string          `json:"entity"`
					Record json.RawMessage `json:"record"`
				}
				if err := json.Unmarshal(ev.Payload, &p); err != nil || p.Entity != entityActivities {
					t.Fatalf("event payload %q: %v", ev.Payload, err)
				}
			}
		}
		if recs, err := parseRecords(r.result); err == nil {
			out, err := recordsOutput("POST /x", []byte(`{"program_id":1}`), recs, false)
			if err == nil && !json.Valid(out) {
				t.Fatalf("output %q is not valid JSON", out)
			}
		}
	})
}
