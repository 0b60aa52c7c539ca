package workflow

import (
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/store"
)

func TestAnyMayMatch(t *testing.T) {
	wf := func(conds ...mapping.Condition) *compiled {
		t.Helper()
		w := &config.Workflow{}
		if conds != nil {
			f, err := mapping.CompileFilter(conds)
			if err != nil {
				t.Fatal(err)
			}
			w.Compiled.Filter = f
		}
		return &compiled{wf: w}
	}
	order := wf(mapping.Condition{Path: "$.kind", Op: "eq", Value: "order"})
	refund := wf(mapping.Condition{Path: "$.kind", Op: "eq", Value: "refund"})
	wildcard := wf(mapping.Condition{Path: "$.items[*].kind", Op: "eq", Value: "order"})
	none := wf()
	tests := []struct {
		name      string
		triggered []*compiled
		payload   string
		want      bool
	}{
		{"refused by the only filter", []*compiled{order}, `{"kind":"page"}`, false},
		{"refused by every filter", []*compiled{order, refund}, `{"kind":"page"}`, false},
		{"taken by one filter", []*compiled{order, refund}, `{"kind":"refund"}`, true},
		{"duplicate key, the last wins", []*compiled{order}, `{"kind":"page","kind":"order"}`, true},
		{"no filter takes everything", []*compiled{order, none}, `{"kind":"page"}`, true},
		{"a path only the decoder handles", []*compiled{wildcard}, `{"kind":"page"}`, true},
		{"a payload that does not decode is decoded (a failed run)", []*compiled{order}, `{"kind":`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := anyMayMatch(tt.triggered, []byte(tt.payload)); got != tt.want {
				t.Errorf("anyMayMatch = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDispatchSkipsRefusedEventsWithoutLosingMatches: with the raw
// pre-check, the events the filter takes still become runs, those it refuses
// still do not, and the dispatch cursor passes them all.
func TestDispatchSkipsRefusedEventsWithoutLosingMatches(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t, config.RetryPolicy{})
	f.append(t,
		`{"kind":"refund","id":"B"}`,
		`{"kind":"order","id":"A","total":"1.5"}`,
		`{"kind":"page","kind":"order","id":"D","total":2}`,
		`{"kind":"order ","id":"E"}`,
		`{"id":"F"}`,
	)
	waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 2)
	all := f.runs(t, store.RunFilter{})
	ids := map[string]bool{}
	for _, r := range all {
		ids[r.Fields["id"].(string)] = true
	}
	if len(all) != 2 || !ids["A"] || !ids["D"] {
		t.Fatalf("runs for %v, want exactly A and D", ids)
	}
	if lag := e.Lag(); lag != 0 {
		t.Errorf("log lag = %d after dispatch, want 0", lag)
	}
}
