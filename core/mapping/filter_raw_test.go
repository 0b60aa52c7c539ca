package mapping

import (
	"os"
	"path/filepath"
	"testing"
)

// rawFilters are filters MatchJSON can evaluate: every op, nested names,
// indexes, the root, and keys that need quoting.
func rawFilters(t testing.TB) []*Filter {
	t.Helper()
	sets := [][]Condition{
		{{"$.type", "eq", "track"}},
		{{"$.type", "eq", "track"}, {"$.event", "eq", "Order Completed"}, {"$.properties.revenue", "gt", 0}},
		{{"$.n", "gte", 100}, {"$.ns", "eq", 100}, {"$.flag", "eq", true}},
		{{"$.nothing", "eq", nil}},
		{{"$.nope", "ne", "x"}},
		{{"$.nothing", "exists", true}},
		{{"$.nope", "exists", false}},
		{{"$.tags", "contains", "vip"}},
		{{"$.tags[2]", "eq", 7}},
		{{"$.items[1].sku", "in", []any{"a", "b"}}},
		{{"$.obj", "eq", map[string]any{"k": 1}}},
		{{"$.ts", "lt", "2030-01-01T00:00:00Z"}},
		{{"$.event", "matches", "^Order"}},
		{{"$['a b'].c", "eq", 1}},
		{{"$.a.b", "eq", 1}},
		{{"$", "exists", true}},
		{{"$[0]", "eq", 1}},
	}
	out := make([]*Filter, len(sets))
	for i, conds := range sets {
		f, err := CompileFilter(conds)
		if err != nil {
			t.Fatalf("filter %d: %v", i, err)
		}
		if f.raw == nil {
			t.Fatalf("filter %d (%v): no raw form", i, conds)
		}
		out[i] = f
	}
	return out
}

// checkAgrees fails when MatchJSON gives a verdict that Match on the decoded
// payload does not; it returns whether MatchJSON gave one.
func checkAgrees(t *testing.T, f *Filter, payload []byte) bool {
	t.Helper()
	got, ok := f.MatchJSON(payload)
	doc, err := Decode(payload)
	if err != nil {
		if ok {
			t.Fatalf("MatchJSON(%q) gave a verdict on a payload Decode refuses: %v", payload, err)
		}
		return false
	}
	if ok && got != f.Match(doc) {
		t.Fatalf("MatchJSON(%q) = %v, Match = %v", payload, got, !got)
	}
	return ok
}

func TestMatchJSONAgreesWithMatch(t *testing.T) {
	payloads := []string{
		filterDoc,
		`{"type":"track","event":"Order Completed","properties":{"revenue":12.5}}`,
		`{"type":"track","event":"Order Completed","properties":{"revenue":"0"}}`,
		`{"type":"track","event":"Transaction Created","properties":{"revenue":12.5}}`,
		`{"type":"identify"}`,
		`{"a b":{"c":1},"a":{"b":1}}`,
		`{"a":{"b":2},"a":{"b":1}}`,
		`{"a":{"b":1},"a":{"c":1}}`,
		`{"a":[{"b":1}],"a":{"b":1}}`,
		`{"type":"tr\u0061ck","t\u0079pe":"track"}`,
		`[1,2,3]`,
		`null`,
		`{"tags":"vip"}`,
	}
	for _, f := range rawFilters(t) {
		for _, p := range payloads {
			checkAgrees(t, f, []byte(p))
		}
	}
}

// TestMatchJSONDefers covers what MatchJSON leaves to Decode and Match.
func TestMatchJSONDefers(t *testing.T) {
	tests := []struct {
		name    string
		conds   []Condition
		payload string
	}{
		{"wildcard path", []Condition{{"$.items[*].sku", "eq", "a"}}, `{"items":[{"sku":"a"}]}`},
		{"descendant path", []Condition{{"$..sku", "eq", "a"}}, `{"items":[{"sku":"a"}]}`},
		{"index from the end", []Condition{{"$.items[-1]", "eq", 1}}, `{"items":[1]}`},
		{"key with a quote", []Condition{{`$["it's"]`, "eq", 1}}, `{"it's":1}`},
		{"invalid JSON", []Condition{{"$.type", "eq", "track"}}, `{"type":"track"`},
		{"invalid UTF-8", []Condition{{"$.type", "eq", "track"}}, "{\"type\":\"track\xff\"}"},
		{"child of an overwritten duplicate", []Condition{{"$.a.b", "eq", 1}}, `{"a":{"b":1},"a":{"c":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := CompileFilter(tt.conds)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := f.MatchJSON([]byte(tt.payload)); ok {
				t.Errorf("MatchJSON = %v with a verdict, want it to defer to Match", got)
			}
		})
	}
}

func TestMatchJSONDecidesCommonCases(t *testing.T) {
	f := rawFilters(t)[1] // the load harness's 3-condition filter
	for _, tt := range []struct {
		payload string
		want    bool
	}{
		{`{"type":"track","event":"Order Completed","properties":{"revenue":12.5}}`, true},
		{`{"type":"track","event":"Transaction Created","properties":{"revenue":12.5}}`, false},
		{`{"type":"track","event":"Order Completed","properties":{"revenue":0}}`, false},
		{`{"type":"page"}`, false},
	} {
		got, ok := f.MatchJSON([]byte(tt.payload))
		if !ok || got != tt.want {
			t.Errorf("MatchJSON(%s) = %v, %v; want %v, true", tt.payload, got, ok, tt.want)
		}
	}
}

// FuzzMatchJSON keeps MatchJSON's verdicts those of Decode and Match.
func FuzzMatchJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{filterDoc, `{"a":{"b":1},"a":{"c":1}}`, `{"a b":{"c":1}}`, `{"t\u0079pe":"track"}`, `{"\ud800":1}`, `[1]`} {
		f.Add([]byte(s))
	}
	filters := rawFilters(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, flt := range filters {
			checkAgrees(t, flt, payload)
		}
	})
}

// BenchmarkFilterNoMatch is the dispatcher's work for an event whose filter
// does not match (the load harness's workload): decoding the payload and
// matching, against matching on the raw payload.
func BenchmarkFilterNoMatch(b *testing.B) {
	payload := segmentTrack(b)
	f, err := CompileFilter([]Condition{
		{Path: "$.type", Op: "eq", Value: "track"},
		{Path: "$.event", Op: "eq", Value: "Order Completed"},
		{Path: "$.properties.revenue", Op: "gt", Value: 0},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			doc, err := Decode(payload)
			if err != nil || f.Match(doc) {
				b.Fatal("want a decoded payload that does not match")
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if m, ok := f.MatchJSON(payload); !ok || m {
				b.Fatal("want a verdict of no match")
			}
		}
	})
}
