package schedule

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
)

// missedLog records Options.Missed calls.
type missedLog struct {
	mu  sync.Mutex
	got []string
}

func (m *missedLog) add(key string, slot time.Time, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.got = append(m.got, key+" "+slot.UTC().Format(time.RFC3339)+" "+reason)
}

func (m *missedLog) list() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

// TestMissedSlotsReported: a slot that passed while stopped, and slots
// skipped behind a long run, are reported (alerts); on-time runs are not.
func TestMissedSlotsReported(t *testing.T) {
	dir := t.TempDir()
	applied := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	clk := newFakeClock(applied)
	key := ConnectionKey("slow")
	hourly := &config.Schedule{Every: time.Hour}
	log := &missedLog{}
	start := func(rec *recorder) (*Scheduler, func()) {
		st := openStore(t, dir)
		s := New(Options{KV: st.KV(), Clock: clk, Timezone: "UTC", Logger: quiet, Missed: log.add})
		if err := s.Add(context.Background(), key, hourly, rec.run); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		stop := func() { s.Close(); st.Close() }
		t.Cleanup(stop)
		return s, stop
	}

	rec := newRecorder()
	rec.block = make(chan struct{})
	s, stop := start(rec)
	clk.Set(applied.Add(time.Hour))
	rec.next(t)
	clk.Set(applied.Add(2*time.Hour + 30*time.Minute)) // the 12:00 slot passes during the run
	rec.block <- struct{}{}
	idle(t, s, key)
	want := []string{key + " 2026-05-01T12:00:00Z " + MissedOverrun}
	if got := log.list(); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("after an overrun: %q, want %q", got, want)
	}
	close(rec.block)
	stop()

	// Down from 12:30 to 15:10: the 13:00 slot is missed and runs late.
	clk.Set(applied.Add(5*time.Hour + 10*time.Minute))
	rec = newRecorder()
	start(rec)
	rec.next(t)
	want = append(want, key+" 2026-05-01T13:00:00Z "+MissedWhileDown)
	if got := log.list(); len(got) != 2 || got[1] != want[1] {
		t.Fatalf("after downtime: %q, want %q", got, want)
	}
}
