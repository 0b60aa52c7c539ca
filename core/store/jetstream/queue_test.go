package jetstream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
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
