package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestLingerFor(t *testing.T) {
	tests := []struct {
		name  string
		state lingerState
		want  time.Duration
	}{
		{"nothing committed yet", lingerState{}, 0},
		{"a lone writer never waits", lingerState{lastBatch: 1, lastTook: 3 * time.Millisecond}, 0},
		{"below the batch that signals concurrency", lingerState{lastBatch: lingerMinBatch - 1, lastTook: 3 * time.Millisecond}, 0},
		{"a share of the last commit", lingerState{lastBatch: 32, lastTook: 2 * time.Millisecond}, 500 * time.Microsecond},
		{"capped for a slow disk", lingerState{lastBatch: 64, lastTook: time.Second}, lingerMax},
		{"not after a wait that ran out", lingerState{lastBatch: 64, lastTook: 2 * time.Millisecond, skip: 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.state.lingerFor(); got != tt.want {
				t.Errorf("lingerFor() = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestLingerReturnsOnStop: a committer that is closing does not wait for
// callers that will not come back.
func TestLingerReturnsOnStop(t *testing.T) {
	c := &committer{wake: make(chan struct{}, 1), stop: make(chan struct{})}
	c.lingered = lingerState{lastBatch: 64, lastTook: time.Hour}
	close(c.stop)
	c.linger() // returns: the test would hang (and time out) otherwise
}

// TestLingerBacksOffWhenCallersDoNotReturn: a wait that runs out with fewer
// than half of the callers back turns lingering off for the next
// lingerBackoff commits.
func TestLingerBacksOffWhenCallersDoNotReturn(t *testing.T) {
	c := &committer{wake: make(chan struct{}, 1), stop: make(chan struct{})}
	c.lingered = lingerState{lastBatch: 8, lastTook: 100 * time.Microsecond}
	c.linger() // nobody submits: the wait runs out
	for i := range lingerBackoff {
		if d := c.lingered.lingerFor(); d != 0 {
			t.Fatalf("commit %d after a wait ran out: linger %s, want none", i, d)
		}
		c.committed(8, 100*time.Microsecond)
	}
	if d := c.lingered.lingerFor(); d == 0 {
		t.Fatalf("after %d commits the linger is still off", lingerBackoff)
	}
}

// TestConcurrentAppendsAllDurableInOrder: with the linger batching
// concurrent writers, every append is answered with a distinct sequence and
// every answered event is read back, in sequence order.
func TestConcurrentAppendsAllDurableInOrder(t *testing.T) {
	dir := t.TempDir()
	s := openAt(t, dir, testOptions())
	const writers, each = 32, 20
	var mu sync.Mutex
	got := map[uint64]string{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				id := fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)
				res, err := s.Log().Append(context.Background(), []AppendRequest{{Connection: "c", Payload: []byte(id)}})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[res[0].Seq] = id
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != writers*each {
		t.Fatalf("%d distinct sequences for %d appends", len(got), writers*each)
	}
	evs, err := s.Log().Read(context.Background(), 0, writers*each+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != writers*each {
		t.Fatalf("read %d events, want %d", len(evs), writers*each)
	}
	for i, ev := range evs {
		if i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Fatalf("sequence %d after %d", ev.Seq, evs[i-1].Seq)
		}
		if string(ev.Payload) != got[ev.Seq] {
			t.Fatalf("event %d holds %s, its append was answered for %s", ev.Seq, ev.Payload, got[ev.Seq])
		}
	}
}
