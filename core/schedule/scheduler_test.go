package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dir, store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// recorder is a scheduled job that reports each slot it runs.
type recorder struct {
	fired   chan time.Time
	block   chan struct{} // when non-nil, each run waits for a value
	active  atomic.Int32
	overlap atomic.Bool
}

func newRecorder() *recorder { return &recorder{fired: make(chan time.Time, 16)} }

func (r *recorder) run(ctx context.Context, at time.Time) error {
	if r.active.Add(1) > 1 {
		r.overlap.Store(true)
	}
	defer r.active.Add(-1)
	r.fired <- at
	if r.block != nil {
		select {
		case <-r.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// next waits for the next run; the timeout only keeps a broken scheduler
// from hanging the test.
func (r *recorder) next(t *testing.T) time.Time {
	t.Helper()
	select {
	case at := <-r.fired:
		return at
	case <-time.After(10 * time.Second):
		t.Fatal("no scheduled run")
		return time.Time{}
	}
}

// idle waits until key has no run in progress.
func idle(t *testing.T, s *Scheduler, key string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		running := false
		for _, e := range s.Status() {
			if e.Key == key {
				running = e.Running
			}
		}
		if !running {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%s still running", key)
}

func startScheduler(t *testing.T, st store.Store, clk Clock, key string, sched *config.Schedule, run Func) *Scheduler {
	t.Helper()
	s := New(Options{KV: st.KV(), Clock: clk, Timezone: "UTC", Logger: quiet})
	if err := s.Add(context.Background(), key, sched, run); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var dailyNY = &config.Schedule{Every: 24 * time.Hour, Start: "02:00", Timezone: "America/New_York"}

// TestDailyAcrossDST drives a 24h schedule at 02:00 New York time through
// both 2026 DST changes: every run is at 02:00 local (on 8 March, when 02:00
// does not exist, at 03:00 EDT, the instant the clock jumps), 23 or 25 hours
// apart on the days the clocks change.
func TestDailyAcrossDST(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tests := []struct {
		name  string
		start time.Time
		want  []time.Time
		gaps  []time.Duration // between successive runs
	}{
		{"spring forward 2026-03-08", time.Date(2026, 3, 5, 12, 0, 0, 0, ny), []time.Time{
			time.Date(2026, 3, 6, 2, 0, 0, 0, ny),
			time.Date(2026, 3, 7, 2, 0, 0, 0, ny),
			time.Date(2026, 3, 8, 3, 0, 0, 0, ny), // 02:00 EST does not exist; 07:00 UTC
			time.Date(2026, 3, 9, 2, 0, 0, 0, ny),
			time.Date(2026, 3, 10, 2, 0, 0, 0, ny),
		}, []time.Duration{24 * time.Hour, 24 * time.Hour, 23 * time.Hour, 24 * time.Hour}},
		{"fall back 2026-11-01", time.Date(2026, 10, 29, 12, 0, 0, 0, ny), []time.Time{
			time.Date(2026, 10, 30, 2, 0, 0, 0, ny),
			time.Date(2026, 10, 31, 2, 0, 0, 0, ny),
			time.Date(2026, 11, 1, 2, 0, 0, 0, ny), // 25 hours after the previous run
			time.Date(2026, 11, 2, 2, 0, 0, 0, ny),
			time.Date(2026, 11, 3, 2, 0, 0, 0, ny),
		}, []time.Duration{24 * time.Hour, 25 * time.Hour, 24 * time.Hour, 24 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t, t.TempDir())
			t.Cleanup(func() { st.Close() })
			clk := newFakeClock(tt.start)
			rec := newRecorder()
			key := ConnectionKey("sftp-in")
			s := startScheduler(t, st, clk, key, dailyNY, rec.run)
			for i, want := range tt.want {
				next, _ := s.Next(key)
				if !next.Equal(want) {
					t.Fatalf("run %d planned at %s, want %s", i, next.In(ny), want.In(ny))
				}
				clk.Set(want.Add(-time.Minute))
				clk.Set(want)
				if at := rec.next(t); !at.Equal(want) {
					t.Fatalf("run %d for slot %s, want %s", i, at.In(ny), want.In(ny))
				}
				idle(t, s, key)
				if lt := want.In(ny); i > 0 && lt.Hour() != 2 && !(lt.Month() == 3 && lt.Day() == 8) {
					t.Errorf("run %d at %s local, want 02:00", i, lt)
				}
			}
			for i, want := range tt.gaps {
				if d := tt.want[i+1].Sub(tt.want[i]); d != want {
					t.Errorf("between runs %d and %d: %s, want %s", i, i+1, d, want)
				}
			}
		})
	}
}

// TestRestartDoesNotDoubleFire stops and recreates the scheduler over the
// same (reopened) store: a slot that ran does not run again, an unchanged
// schedule keeps its next run, and slots missed while stopped run once.
func TestRestartDoesNotDoubleFire(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	dir := t.TempDir()
	key := ConnectionKey("s3-in")
	clk := newFakeClock(time.Date(2026, 3, 5, 12, 0, 0, 0, ny))
	rec := newRecorder()

	st := openStore(t, dir)
	s := startScheduler(t, st, clk, key, dailyNY, rec.run)
	slot1 := time.Date(2026, 3, 6, 2, 0, 0, 0, ny)
	clk.Set(slot1)
	if at := rec.next(t); !at.Equal(slot1) {
		t.Fatalf("first run for %s, want %s", at, slot1)
	}
	idle(t, s, key)
	s.Close()
	st.Close()

	// Restart a minute after the run: nothing is due.
	clk.Set(slot1.Add(time.Minute))
	st = openStore(t, dir)
	s = startScheduler(t, st, clk, key, dailyNY, rec.run)
	slot2 := time.Date(2026, 3, 7, 2, 0, 0, 0, ny)
	if next, _ := s.Next(key); !next.Equal(slot2) {
		t.Fatalf("after restart next run %s, want %s", next, slot2)
	}
	clk.Set(slot2)
	// A double fire at start-up would be received first.
	if at := rec.next(t); !at.Equal(slot2) {
		t.Fatalf("after restart ran slot %s, want %s", at.In(ny), slot2.In(ny))
	}
	idle(t, s, key)
	s.Close()
	st.Close()

	// Down for three days: the missed slot runs once at start-up, then the
	// schedule continues at the next 02:00.
	clk.Set(time.Date(2026, 3, 10, 12, 0, 0, 0, ny))
	st = openStore(t, dir)
	t.Cleanup(func() { st.Close() })
	s = startScheduler(t, st, clk, key, dailyNY, rec.run)
	missed := time.Date(2026, 3, 8, 3, 0, 0, 0, ny)
	if at := rec.next(t); !at.Equal(missed) {
		t.Fatalf("start-up run for slot %s, want the missed %s", at.In(ny), missed.In(ny))
	}
	idle(t, s, key)
	slot := time.Date(2026, 3, 11, 2, 0, 0, 0, ny)
	if next, _ := s.Next(key); !next.Equal(slot) {
		t.Fatalf("next after catch-up %s, want %s", next.In(ny), slot.In(ny))
	}
	clk.Set(slot)
	if at := rec.next(t); !at.Equal(slot) {
		t.Fatalf("ran slot %s, want %s (missed slots must run once, not once each)", at.In(ny), slot.In(ny))
	}
}

// TestChangedScheduleIsReapplied: a different schedule under the same key
// does not inherit the old next run.
func TestChangedScheduleIsReapplied(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clk := newFakeClock(now)
	key := ConnectionKey("c")
	s := startScheduler(t, st, clk, key, &config.Schedule{Every: 24 * time.Hour, Start: "02:00"}, newRecorder().run)
	s.Close()
	s = startScheduler(t, st, clk, key, &config.Schedule{Every: time.Hour}, newRecorder().run)
	if next, _ := s.Next(key); !next.Equal(now.Add(time.Hour)) {
		t.Errorf("next %s, want %s", next, now.Add(time.Hour))
	}
}

// TestNoOverlap: slots that pass while a run is still going neither start a
// second run nor queue up; the schedule continues at the next slot.
func TestNoOverlap(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	applied := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clk := newFakeClock(applied)
	rec := newRecorder()
	rec.block = make(chan struct{})
	key := ConnectionKey("slow")
	s := startScheduler(t, st, clk, key, &config.Schedule{Every: time.Hour}, rec.run)

	clk.Set(applied.Add(time.Hour))
	if at := rec.next(t); !at.Equal(applied.Add(time.Hour)) {
		t.Fatalf("first run %s", at)
	}
	for h := 2; h <= 4; h++ {
		clk.Set(applied.Add(time.Duration(h) * time.Hour))
	}
	clk.Set(applied.Add(4*time.Hour + 10*time.Minute))
	rec.block <- struct{}{}
	idle(t, s, key)
	want := applied.Add(5 * time.Hour)
	if next, _ := s.Next(key); !next.Equal(want) {
		t.Fatalf("next after a long run %s, want %s", next, want)
	}
	close(rec.block)
	clk.Set(want)
	if at := rec.next(t); !at.Equal(want) {
		t.Fatalf("ran slot %s, want %s (passed slots must be skipped)", at, want)
	}
	if rec.overlap.Load() {
		t.Error("two runs overlapped")
	}
}

// TestInterruptedRunRunsAgain: a run cancelled by Close is run once at the
// next start.
func TestInterruptedRunRunsAgain(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	applied := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clk := newFakeClock(applied)
	rec := newRecorder()
	rec.block = make(chan struct{})
	key := ConnectionKey("c")
	sched := &config.Schedule{Every: 6 * time.Hour}
	s := startScheduler(t, st, clk, key, sched, rec.run)
	slot := applied.Add(6 * time.Hour)
	clk.Set(slot)
	rec.next(t)
	s.Close() // cancels the blocked run
	st.Close()

	st = openStore(t, dir)
	t.Cleanup(func() { st.Close() })
	clk.Set(slot.Add(time.Minute))
	rec2 := newRecorder()
	startScheduler(t, st, clk, key, sched, rec2.run)
	if at := rec2.next(t); !at.Equal(slot) {
		t.Fatalf("re-run of interrupted slot: got %s, want %s", at, slot)
	}
}

type starter struct {
	mu      sync.Mutex
	payload []json.RawMessage
	done    chan struct{}
}

func (s *starter) StartScheduled(_ context.Context, workflow string, at time.Time) error {
	s.mu.Lock()
	s.payload = append(s.payload, WorkflowPayload(workflow, at))
	s.mu.Unlock()
	s.done <- struct{}{}
	return nil
}

func TestScheduledWorkflow(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clk := newFakeClock(now)
	s := New(Options{KV: st.KV(), Clock: clk, Logger: quiet})
	w := &starter{done: make(chan struct{}, 1)}
	wfs := []*config.Workflow{
		{Name: "hourly-report", Trigger: config.Trigger{Schedule: &config.Schedule{Every: time.Hour}}},
		{Name: "on-event", Trigger: config.Trigger{Connection: "x"}},
	}
	if err := s.AddWorkflows(context.Background(), wfs, w); err != nil {
		t.Fatal(err)
	}
	if len(s.Status()) != 1 {
		t.Fatalf("schedules %+v, want only the scheduled workflow", s.Status())
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	clk.Set(now.Add(time.Hour))
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("workflow not started")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	want := `{"scheduledAt":"2026-05-01T11:00:00Z","workflow":"hourly-report"}`
	if string(w.payload[0]) != want {
		t.Errorf("payload %s, want %s", w.payload[0], want)
	}
}
