package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// seedRuns creates 30 runs: IDs sort by creation time like ULIDs, workflows
// and statuses rotate, every fifth run is dead-lettered.
func seedRuns(t *testing.T, s *Badger) []*Run {
	t.Helper()
	workflows := []string{"orders", "segment", "orders-eu"}
	statuses := []string{StatusCompleted, StatusFailed, StatusQueued, StatusRunning, StatusRetrying}
	var runs []*Run
	for i := range 30 {
		runs = append(runs, &Run{
			ID:         fmt.Sprintf("run%03d", i),
			Workflow:   workflows[i%len(workflows)],
			Status:     statuses[i%len(statuses)],
			EventID:    fmt.Sprintf("evt_%016x", i),
			Input:      json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
			Tasks:      []TaskRun{{Name: "t", Uses: "x.y", Status: StatusCompleted, Output: json.RawMessage(`{"ok":true}`)}},
			DeadLetter: i%5 == 4,
			CreatedAt:  t0.Add(time.Duration(i) * time.Minute),
		})
	}
	// Two calls, so runs of one Create and of separate ones are both covered.
	if err := s.Runs().Create(context.Background(), runs[:10], nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Runs().Create(context.Background(), runs[10:], nil); err != nil {
		t.Fatal(err)
	}
	return runs
}

// expect filters the model the way List should, newest first.
func expect(runs []*Run, f RunFilter) []string {
	var ids []string
	for _, r := range runs {
		if f.match(r) {
			ids = append(ids, r.ID)
		}
	}
	slices.Reverse(ids)
	return ids
}

func ids(runs []*Run) []string {
	out := make([]string, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.ID)
	}
	return out
}

// listAll pages through List with the cursor.
func listAll(t *testing.T, s *Badger, f RunFilter) []string {
	t.Helper()
	var all []string
	for page := 0; ; page++ {
		got, next, err := s.Runs().List(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(got)...)
		if next == "" {
			return all
		}
		if page > 100 || len(got) == 0 {
			t.Fatalf("paging does not end: cursor %q after %d runs", next, len(all))
		}
		if next != got[len(got)-1].ID {
			t.Fatalf("cursor %q, want the last ID of the page %q", next, got[len(got)-1].ID)
		}
		f.After = next
	}
}

func TestRunsList(t *testing.T) {
	s, _ := openTest(t)
	runs := seedRuns(t, s)
	filters := []struct {
		name string
		f    RunFilter
	}{
		{"all", RunFilter{}},
		{"status", RunFilter{Status: StatusFailed}},
		{"workflow", RunFilter{Workflow: "orders"}},
		{"workflow is not a prefix", RunFilter{Workflow: "orders-eu"}},
		{"workflow and status", RunFilter{Workflow: "segment", Status: StatusQueued}},
		{"since", RunFilter{Since: t0.Add(20 * time.Minute)}},
		{"since and status", RunFilter{Since: t0.Add(10 * time.Minute), Status: StatusRunning}},
		{"dead letter", RunFilter{DeadLetter: true}},
		{"dead letter of a workflow", RunFilter{DeadLetter: true, Workflow: "orders"}},
		{"no match", RunFilter{Workflow: "nope"}},
	}
	for _, tt := range filters {
		for _, limit := range []int{0, 1, 4, 1000} {
			t.Run(fmt.Sprintf("%s/limit=%d", tt.name, limit), func(t *testing.T) {
				f := tt.f
				f.Limit = limit
				want := expect(runs, tt.f)
				if got := listAll(t, s, f); !slices.Equal(got, want) {
					t.Errorf("paged List = %v\nwant %v", got, want)
				}
				page, _, err := s.Runs().List(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				wantFirst := want
				if n := cmpLimit(limit); len(want) > n {
					wantFirst = want[:n]
				}
				if !slices.Equal(ids(page), wantFirst) {
					t.Errorf("first page = %v, want %v", ids(page), wantFirst)
				}
			})
		}
	}
}

func cmpLimit(limit int) int {
	if limit <= 0 {
		return defaultListLimit
	}
	return min(limit, maxListLimit)
}

func TestRunsListLimits(t *testing.T) {
	s, _ := openTest(t)
	var runs []*Run
	for i := range 520 {
		runs = append(runs, &Run{ID: fmt.Sprintf("r%04d", i), Workflow: "w", Status: StatusCompleted, CreatedAt: t0})
	}
	if err := s.Runs().Create(context.Background(), runs, nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ limit, want int }{{0, 50}, {-1, 50}, {10, 10}, {500, 500}, {501, 500}} {
		got, next, err := s.Runs().List(context.Background(), RunFilter{Limit: tt.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want || next == "" || got[0].ID != "r0519" {
			t.Errorf("limit %d: %d runs from %s, cursor %q; want %d from r0519 and a cursor", tt.limit, len(got), got[0].ID, next, tt.want)
		}
	}
}

func TestRunsUpdateKeepsIndexes(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, testOptions())
	ctx := context.Background()
	runs := seedRuns(t, s)

	// Move runs between statuses, workflows and the dead-letter list.
	changes := []struct {
		i          int
		status     string
		workflow   string
		deadLetter bool
	}{
		{2, StatusRunning, "", false},
		{2, StatusCompleted, "", false},
		{3, StatusFailed, "", true},
		{4, StatusQueued, "", false}, // leaves the dead-letter list
		{5, StatusFailed, "segment", false},
		{7, StatusRetrying, "", false},
	}
	for _, c := range changes {
		r := *runs[c.i]
		r.Status = c.status
		r.DeadLetter = c.deadLetter
		if c.workflow != "" {
			r.Workflow = c.workflow
		}
		r.UpdatedAt = t0.Add(time.Hour)
		if err := s.Runs().Update(ctx, &r); err != nil {
			t.Fatal(err)
		}
		runs[c.i] = &r
	}
	for _, f := range []RunFilter{
		{Status: StatusCompleted}, {Status: StatusRunning}, {Status: StatusFailed}, {Status: StatusQueued},
		{Workflow: "segment"}, {Workflow: "orders-eu"}, {Workflow: "segment", Status: StatusFailed},
		{DeadLetter: true}, {},
	} {
		if got, want := listAll(t, s, f), expect(runs, f); !slices.Equal(got, want) {
			t.Errorf("List(%+v) = %v\nwant %v", f, got, want)
		}
	}
	got, err := s.Runs().Get(ctx, runs[5].ID)
	if err != nil || got.Workflow != "segment" || got.Status != StatusFailed || !got.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("Get = %+v, %v", got, err)
	}
	checkIndexes(t, s)
	checkCounts(t, s, runs)

	// Counts come from the index on reopen: they must match too.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, dir, testOptions())
	checkCounts(t, s, runs)
}

func TestRunsUnfinished(t *testing.T) {
	s, _ := openTest(t)
	runs := seedRuns(t, s)
	var want []string
	for _, r := range runs {
		if r.Status == StatusQueued || r.Status == StatusRunning || r.Status == StatusRetrying {
			want = append(want, r.ID)
		}
	}
	got, err := s.Runs().Unfinished(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), want) {
		t.Errorf("Unfinished = %v\nwant %v", ids(got), want)
	}
}

func TestRunsErrors(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if err := s.Runs().Update(ctx, &Run{ID: "missing", Status: StatusRunning}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Update of a missing run: %v, want ErrNotFound", err)
	}
	if _, err := s.Runs().Get(ctx, "missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a missing run: %v, want ErrNotFound", err)
	}
	for _, r := range []*Run{nil, {Status: StatusQueued}, {ID: "a/b", Status: StatusQueued}, {ID: "x"}} {
		if err := s.Runs().Create(ctx, []*Run{r}, nil); err == nil {
			t.Errorf("Create(%+v) succeeded", r)
		}
	}
	counts, _ := s.Runs().Counts(ctx)
	for st, n := range counts {
		if n != 0 {
			t.Errorf("count of %s = %d after failed writes", st, n)
		}
	}
}

func TestRunsCreateWithKV(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	err := s.Runs().Create(ctx, []*Run{{ID: "r1", Workflow: "w", Status: StatusQueued}},
		[]KVWrite{{Key: "dispatch/cursor", Value: []byte("42")}})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.KV().Get(ctx, "dispatch/cursor"); err != nil || string(v) != "42" {
		t.Errorf("cursor = %q, %v", v, err)
	}
	// A bad KV write fails the whole Create.
	err = s.Runs().Create(ctx, []*Run{{ID: "r2", Workflow: "w", Status: StatusQueued}}, []KVWrite{{Key: ""}})
	if err == nil {
		t.Fatal("Create with an empty KV key succeeded")
	}
	if _, err := s.Runs().Get(ctx, "r2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("run of a failed Create: %v", err)
	}
	// Create replaces a run with the same ID, indexes included.
	if err := s.Runs().Create(ctx, []*Run{{ID: "r1", Workflow: "w", Status: StatusCompleted}}, nil); err != nil {
		t.Fatal(err)
	}
	checkIndexes(t, s)
	if got, _, _ := s.Runs().List(ctx, RunFilter{Status: StatusQueued}); len(got) != 0 {
		t.Errorf("queued runs after replace = %v", ids(got))
	}
}

// TestRunsUpdateFailsAlone checks that an op failing in a batch does not
// take the others down with it.
func TestRunsUpdateFailsAlone(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	good, _ := prepareRun(&Run{ID: "a", Workflow: "w", Status: StatusQueued})
	missing, _ := prepareRun(&Run{ID: "b", Workflow: "w", Status: StatusRunning})
	later, _ := prepareRun(&Run{ID: "c", Workflow: "w", Status: StatusQueued})
	ops := []*runOp{
		newRunOp(ctx, []runRec{good}, nil, false),
		newRunOp(ctx, []runRec{missing}, nil, true),
		newRunOp(ctx, []runRec{later}, nil, false),
	}
	errs := submitTogether(t, s, ops[0], ops[1], ops[2])
	if errs[0] != nil || !errors.Is(errs[1], ErrNotFound) || errs[2] != nil {
		t.Fatalf("errors = %v; want only the update of the missing run to fail", errs)
	}
	if got := listAll(t, s, RunFilter{}); !slices.Equal(got, []string{"c", "a"}) {
		t.Errorf("runs = %v, want [c a]", got)
	}
	checkIndexes(t, s)
}

// checkIndexes verifies every index entry points at a run that belongs in
// it, and every run has all its entries.
func checkIndexes(t *testing.T, s *Badger) {
	t.Helper()
	want := map[string]bool{}
	got := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		it := txn.NewIterator(opts)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := string(it.Item().Key())
			switch {
			case strings.HasPrefix(k, "ridx/"):
				got[k] = true
			case strings.HasPrefix(k, prefixRun):
				v, err := it.Item().ValueCopy(nil)
				if err != nil {
					return err
				}
				r, err := decodeRun(v)
				if err != nil {
					return err
				}
				for _, ik := range indexKeys(r.ID, runHeader{r.Status, r.Workflow, r.DeadLetter}) {
					want[string(ik)] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k := range got {
		if !want[k] {
			t.Errorf("stale index entry %s", k)
		}
	}
	for k := range want {
		if !got[k] {
			t.Errorf("missing index entry %s", k)
		}
	}
}

func checkCounts(t *testing.T, s *Badger, runs []*Run) {
	t.Helper()
	want := map[string]int{}
	for _, r := range runs {
		want[r.Status]++
	}
	got, err := s.Runs().Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{StatusQueued, StatusRunning, StatusCompleted, StatusFailed, StatusRetrying, StatusSkipped} {
		if got[st] != want[st] {
			t.Errorf("Counts[%s] = %d, want %d (all: %v)", st, got[st], want[st], got)
		}
	}
}
