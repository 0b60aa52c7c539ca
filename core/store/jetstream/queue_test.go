package jetstream

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

func queuedRun(status string) *store.Run {
	now := time.Now().UTC()
	return &store.Run{ID: "run_" + ulid.Make().String(), Workflow: "wf", Status: status, Input: []byte(`{}`), CreatedAt: now, UpdatedAt: now}
}

func claimOne(t *testing.T, q store.RunQueue, wait time.Duration) store.RunClaim {
	t.Helper()
	c, err := q.Claim(ctxT(t), wait)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return c
}

// TestRunQueue: a queued run is claimed by one of two nodes sharing the
// stream, not both; a delayed hand-back comes again after its delay; a
// claim that is not extended goes to the other node after the claim
// timeout; Done removes the run from the queue; a run created with
// Runs.Create (not queued), or failed at creation, is never handed out,
// and Requeue queues a run once.
func TestRunQueue(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	open := func() *Store {
		s, err := Open(context.Background(), Options{URL: c.URL(), Replicas: 1, SecretKey: testKey, Logger: quiet, ClaimTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := open(), open()
	r, failed, plain := queuedRun(store.StatusQueued), queuedRun(store.StatusFailed), queuedRun(store.StatusQueued)
	if err := a.CreateQueued(ctxT(t), []*store.Run{r, failed}, []store.KVWrite{{Key: "cursor", Value: []byte("1")}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Runs().Create(ctxT(t), []*store.Run{plain}, nil); err != nil {
		t.Fatal(err)
	}
	first := claimOne(t, a, 2*time.Second)
	if first == nil || first.RunID() != r.ID {
		t.Fatalf("claim = %v, want run %s", first, r.ID)
	}
	if other := claimOne(t, b, 300*time.Millisecond); other != nil {
		t.Fatalf("second node claimed %s while the first holds it", other.RunID())
	}
	// Handed back with a delay: nobody gets it before, someone after.
	if err := first.RetryAt(ctxT(t), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if early := claimOne(t, b, 300*time.Millisecond); early != nil {
		t.Fatalf("claimed %s before its retry was due", early.RunID())
	}
	again := claimOne(t, b, 5*time.Second)
	if again == nil || again.RunID() != r.ID {
		t.Fatalf("after the delay: claim %v, want run %s", again, r.ID)
	}
	// b "dies" holding it (never extends nor answers): a gets it after the
	// claim timeout.
	taken := claimOne(t, a, 10*time.Second)
	if taken == nil || taken.RunID() != r.ID {
		t.Fatalf("after the claim timeout: claim %v, want run %s", taken, r.ID)
	}
	if err := taken.Extend(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if err := taken.Done(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if left := claimOne(t, b, 3*time.Second); left != nil {
		t.Fatalf("claimed %s after Done (or a run that was never queued)", left.RunID())
	}
	// Requeue: the plain run once; the finished one's subject is empty
	// again but a run queued twice is refused.
	n, err := a.Requeue(ctxT(t), []string{plain.ID, plain.ID})
	if err != nil || n != 1 {
		t.Fatalf("Requeue = %d, %v; want 1 (the second is queued already)", n, err)
	}
	got := claimOne(t, b, 2*time.Second)
	if got == nil || got.RunID() != plain.ID {
		t.Fatalf("requeued run: claim %v", got)
	}
	_ = got.Done(ctxT(t))
	if _, err := a.Claim(ctxT(t), time.Millisecond); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Claim with nothing queued: %v", err)
	}
}

// TestRunNotGoneUntilLeaderPast: a read that finds no run is believed only
// once the stream's leader has applied every write this node knows of for
// it. A replica that applied a run's batch first (a consumer there handed
// out its work message, or the tail delivered it) must not make a run
// look gone while the leader is still behind: that run would be dropped
// from the queue unexecuted. The lag is made here by asking for a
// sequence the leader has not reached; a purge stands for the expiry that
// really removes a run.
func TestRunNotGoneUntilLeaderPast(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	s := openOn(t, c, 1)
	r := queuedRun(store.StatusQueued)
	if err := s.CreateQueued(ctxT(t), []*store.Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	cl := claimOne(t, s, 2*time.Second)
	if cl == nil || cl.RunID() != r.ID {
		t.Fatalf("claim = %v, want run %s", cl, r.ID)
	}
	if got, err := cl.Run(ctxT(t)); err != nil || got.ID != r.ID || got.Status != store.StatusQueued {
		t.Fatalf("claimed run = %+v, %v", got, err)
	}
	if err := s.stream.Purge(ctxT(t), jetstream.WithPurgeSubject(s.runSubj(r.ID))); err != nil {
		t.Fatal(err)
	}
	info, err := s.stream.Info(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	ahead := info.State.LastSeq + 3

	// The leader is behind what this node has seen: not "gone", and the
	// index keeps the run.
	short, cancel := context.WithTimeout(ctxT(t), 300*time.Millisecond)
	defer cancel()
	if _, err := s.getRunSeen(short, r.ID, ahead); !errors.Is(err, errLeaderBehind) {
		t.Fatalf("read ahead of the leader: %v, want errLeaderBehind", err)
	}
	if _, ok := s.runs.get(r.ID); !ok {
		t.Fatal("a read ahead of the leader dropped the run from the index")
	}
	// Once the leader is past it, the answer stands.
	for i := range 3 {
		if err := s.KV().Set(ctxT(t), fmt.Sprintf("k%d", i), []byte("v"), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.getRunSeen(ctxT(t), r.ID, ahead); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("read past the leader's sequence: %v, want ErrNotFound", err)
	}
	if _, ok := s.runs.get(r.ID); ok {
		t.Fatal("an expired run stayed in the index")
	}
	// The claim's own read: the leader is past the work message, so the
	// purged run is gone.
	if _, err := cl.Run(ctxT(t)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("claimed run after its expiry: %v, want ErrNotFound", err)
	}
	_ = cl.Done(ctxT(t))
}
