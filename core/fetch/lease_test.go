package fetch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// TestOneJobPerConnectionAcrossNodes: two runners sharing one JetStream store, as
// two nodes would, each with its own lease holder. While one node fetches
// a connection the other gets ErrBusy naming that job, and a runner
// starting meanwhile does not take the job for a crash's leftover; once it
// ends, the other node may fetch.
func TestOneJobPerConnectionAcrossNodes(t *testing.T) {
	ctx := context.Background()
	// JetStream, not Badger: a Badger store has one process, where a
	// running job at start is always a crash's.
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	st, err := jetstream.Open(ctx, jetstream.Options{URL: c.URL(), Replicas: 1, SecretKey: make([]byte, store.SecretKeySize), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	src := newSource(t, st, "files", map[string]int{"contacts": 10})
	src.Block = make(chan struct{})
	src.Started = make(chan struct{}, 1)
	conn := newConn(t, "files", src)
	nodeA := newRunner(t, st, Options{Leases: lease.New(lease.Options{KV: st.KV(), Owner: "a", Logger: quiet})}, conn)
	nodeB := newRunner(t, st, Options{Leases: lease.New(lease.Options{KV: st.KV(), Owner: "b", Logger: quiet})}, conn)

	first, err := nodeA.Start(ctx, "files", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-src.Started
	var busy *ErrBusy
	if _, err := nodeB.Start(ctx, "files", RunOptions{}); !errors.As(err, &busy) || busy.Job.ID != first.ID {
		t.Fatalf("start on the other node: %v, want ErrBusy naming %s", err, first.ID)
	}
	if err := nodeB.FetchScheduled(ctx, "files", time.Now()); !errors.As(err, &busy) {
		t.Fatalf("scheduled fetch on the other node: %v, want ErrBusy", err)
	}
	nodeC := newRunner(t, st, Options{Leases: lease.New(lease.Options{KV: st.KV(), Owner: "c", Logger: quiet})}, conn)
	if j, err := nodeC.Job(ctx, "files", first.ID); err != nil || j.Status != StatusRunning {
		t.Fatalf("a node starting marked another node's running job %+v (%v)", j, err)
	}
	if first.LeaseToken == 0 {
		t.Error("job record has no lease token")
	}

	close(src.Block)
	waitIdle(t, nodeA, "files")
	job, err := nodeB.Run(ctx, conn, RunOptions{})
	if err != nil || job.Status != StatusCompleted {
		t.Fatalf("fetch on the other node after the first ended: %+v, %v", job, err)
	}
	if job.LeaseToken <= first.LeaseToken {
		t.Errorf("second job's lease token %d not above the first's %d", job.LeaseToken, first.LeaseToken)
	}
}

// TestCrashLeftoverOnBadger: on Badger (one process) a "running" job at
// start is a crash's even if the dead process's lease is still in the
// store, so it is marked failed.
func TestCrashLeftoverOnBadger(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	j := &Job{ID: "01J0000000000000000000000B", Connection: "files", Status: StatusRunning, Started: time.Now()}
	if err := saveJob(ctx, st.KV(), j); err != nil {
		t.Fatal(err)
	}
	dead := lease.New(lease.Options{KV: st.KV(), Owner: "dead", Logger: quiet})
	if x, err := dead.Acquire(ctx, LeaseName("files")); err != nil || x == nil {
		t.Fatalf("Acquire = %v, %v", x, err)
	}
	dead.Abandon()
	r := newRunner(t, st, Options{})
	if got, err := r.Job(ctx, "files", j.ID); err != nil || got.Status != StatusFailed {
		t.Fatalf("job %+v %v, want failed", got, err)
	}
}

// TestStaleCursorWriteRefused: a job whose cursor another node moved while
// it fetched (the fetch lease passed to a node that committed first)
// commits nothing: its batch fails with store.ErrConflict instead of
// moving the cursor back and logging the records a second time.
func TestStaleCursorWriteRefused(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 10})
	src.Block = make(chan struct{})
	src.Started = make(chan struct{}, 1)
	conn := newConn(t, "files", src)
	r := newRunner(t, st, Options{}, conn)

	done := make(chan error, 1)
	var job Job
	go func() {
		var err error
		job, err = r.Run(ctx, conn, RunOptions{})
		done <- err
	}()
	<-src.Started
	// The new holder's commit, made while this job's fetch was in flight.
	if err := st.KV().Set(ctx, CursorKey("files", "contacts"), []byte("10"), 0); err != nil {
		t.Fatal(err)
	}
	close(src.Block)
	err := <-done
	if !errors.Is(err, store.ErrConflict) && !strings.Contains(job.Error, "another node") {
		t.Fatalf("job %+v, err %v: want the batch refused with a conflict", job, err)
	}
	if got := src.CountLogged(ctx, "contacts"); got != 0 {
		t.Errorf("the stale job logged %d records, want 0", got)
	}
	if c := cursor(t, st, "files", "contacts"); c != "10" {
		t.Errorf("cursor %q, want the new holder's 10", c)
	}
}
