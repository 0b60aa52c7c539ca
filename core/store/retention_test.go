package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
)

func runAt(t time.Time, status string, dead bool) *Run {
	id := "run_" + strings.ToLower(ulid.MustNew(ulid.Timestamp(t), ulid.DefaultEntropy()).String())
	return &Run{ID: id, Workflow: "wf", Status: status, DeadLetter: dead, Input: []byte(`{"n":1}`), CreatedAt: t, UpdatedAt: t}
}

func TestExpiry(t *testing.T) {
	day := 24 * time.Hour
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		policy     RetentionPolicy
		floor      uint64 // 0: every event dispatched
		wantEvents []uint64
		wantRuns   []string // names of the runs kept
	}{
		{
			name:       "defaults",
			policy:     RetentionPolicy{Events: 7 * day, Runs: 30 * day, DeadLetters: 90 * day},
			wantEvents: []uint64{3, 4},
			wantRuns:   []string{"dead-60d", "retrying-100d", "completed-10d"},
		},
		{
			name:       "undispatched events stay",
			policy:     RetentionPolicy{Events: 7 * day, Runs: 30 * day, DeadLetters: 90 * day},
			floor:      1,
			wantEvents: []uint64{2, 3, 4},
			wantRuns:   []string{"dead-60d", "retrying-100d", "completed-10d"},
		},
		{
			name:       "zero keeps forever",
			policy:     RetentionPolicy{Events: 7 * day},
			wantEvents: []uint64{3, 4},
			wantRuns:   []string{"completed-100d", "dead-100d", "dead-60d", "retrying-100d", "completed-10d"},
		},
		{
			name:       "dead letters shorter than runs",
			policy:     RetentionPolicy{Runs: 90 * day, DeadLetters: 30 * day},
			wantEvents: []uint64{1, 2, 3, 4},
			wantRuns:   []string{"retrying-100d", "completed-10d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: start}
			opts := testOptions()
			opts.now = clock.now
			s := openAt(t, t.TempDir(), opts)
			ctx := context.Background()
			// Events received 20, 10, 5 and 1 days before "now".
			for _, age := range []time.Duration{20 * day, 10 * day, 5 * day, day} {
				clock.t = start.Add(-age)
				mustAppend(t, s, req("c", `{"a":1}`))
			}
			clock.t = start
			runs := map[string]*Run{
				"completed-100d": runAt(start.Add(-100*day), StatusCompleted, false),
				"dead-100d":      runAt(start.Add(-100*day+time.Hour), StatusFailed, true),
				"dead-60d":       runAt(start.Add(-60*day), StatusFailed, true),
				"retrying-100d":  runAt(start.Add(-100*day+2*time.Hour), StatusRetrying, false),
				"completed-10d":  runAt(start.Add(-10*day), StatusCompleted, false),
			}
			var all []*Run
			for _, r := range runs {
				all = append(all, r)
			}
			if err := s.Runs().Create(ctx, all, nil); err != nil {
				t.Fatal(err)
			}
			p := tt.policy
			p.Floor = func() uint64 {
				if tt.floor > 0 {
					return tt.floor
				}
				return s.Log().LastSeq()
			}
			x := s.newExpirer(p)
			if _, err := x.Sweep(ctx); err != nil {
				t.Fatalf("Sweep: %v", err)
			}
			evs, err := s.Log().Read(ctx, 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, e := range evs {
				seqs = append(seqs, e.Seq)
			}
			if !equalSeqs(seqs, tt.wantEvents) {
				t.Errorf("events left: %v, want %v", seqs, tt.wantEvents)
			}
			kept := map[string]bool{}
			for _, n := range tt.wantRuns {
				kept[n] = true
			}
			for name, r := range runs {
				got, err := s.Runs().Get(ctx, r.ID)
				switch {
				case kept[name] && err != nil:
					t.Errorf("run %s: %v, want kept", name, err)
				case kept[name] && string(got.Input) != `{"n":1}`:
					t.Errorf("run %s lost its input: %s", name, got.Input)
				case !kept[name] && !errors.Is(err, ErrNotFound):
					t.Errorf("run %s: err %v, want expired", name, err)
				}
			}
			// The index and the counts follow the deletes.
			listed, _, err := s.Runs().List(ctx, RunFilter{Workflow: "wf", Limit: 100})
			if err != nil || len(listed) != len(tt.wantRuns) {
				t.Errorf("List: %d runs (err %v), want %d", len(listed), err, len(tt.wantRuns))
			}
			counts, _ := s.Runs().Counts(ctx)
			total := 0
			for _, n := range counts {
				total += n
			}
			if total != len(tt.wantRuns) {
				t.Errorf("Counts total %d, want %d", total, len(tt.wantRuns))
			}
			u, err := s.Usage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if u.Events.Count != uint64(len(tt.wantEvents)) || u.Events.Oldest == nil || u.Events.Oldest.Seq != tt.wantEvents[0] {
				t.Errorf("Usage events %+v, want count %d oldest %d", u.Events, len(tt.wantEvents), tt.wantEvents[0])
			}
			// A second pass finds nothing more.
			if sw, err := x.Sweep(ctx); err != nil || sw.Events != 0 || sw.Runs != 0 {
				t.Errorf("second Sweep = %+v, %v; want nothing removed", sw, err)
			}
		})
	}
}

func equalSeqs(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A run replayed after the scan saw it as a dead letter is judged by its
// state in the transaction that deletes it.
func TestExpiryRechecksRunInTransaction(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	r := runAt(old, StatusRetrying, false)
	if err := s.Runs().Create(ctx, []*Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	o := &runExpireOp{writeOp: newWriteOp(ctx), ids: []string{r.ID}, dead: []bool{true}}
	if err := s.commit.submit(ctx, o, o.done); err != nil {
		t.Fatal(err)
	}
	if o.deleted != 0 {
		t.Fatalf("deleted a retrying run")
	}
	if _, err := s.Runs().Get(ctx, r.ID); err != nil {
		t.Fatalf("retrying run gone: %v", err)
	}
}

func TestExpirySizeCap(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	opts := testOptions()
	opts.now = clock.now
	s := openAt(t, t.TempDir(), opts)
	ctx := context.Background()
	payload := `{"p":"` + strings.Repeat("x", 10000) + `"}`
	for range 200 {
		mustAppend(t, s, req("c", payload))
	}
	u, err := s.diskUsage()
	if err != nil {
		t.Fatal(err)
	}
	// Ask for about a quarter less than the store uses now: the oldest
	// events go first, and only as many as cover the excess.
	x := s.newExpirer(RetentionPolicy{Events: 365 * 24 * time.Hour, MaxDataBytes: u.DataBytes - 500_000, Floor: func() uint64 { return 150 }})
	sw, err := x.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Events < 40 || sw.Events > 60 {
		t.Errorf("size cap expired %d events; want about 50 (500 KB of 10 KB events)", sw.Events)
	}
	evs, _ := s.Log().Read(ctx, 0, 1)
	if len(evs) != 1 || evs[0].Seq != uint64(sw.Events)+1 {
		t.Errorf("oldest left %+v, want seq %d", evs, sw.Events+1)
	}
	// The floor still holds when the cap wants more than is dispatched.
	x.p.MaxDataBytes = 1
	if _, err := x.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if evs, _ := s.Log().Read(ctx, 0, 1); len(evs) != 1 || evs[0].Seq != 151 {
		t.Errorf("after the cap: oldest %+v, want seq 151 (the floor is 150)", evs)
	}
}

func TestExpirerCloseStopsLoop(t *testing.T) {
	s, _ := openTest(t)
	x := s.StartExpiry(RetentionPolicy{Events: time.Hour, Interval: time.Millisecond})
	x.Close()
	x.Close() // twice is fine
}
