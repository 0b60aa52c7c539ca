package fetch

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
)

// A connection's job runs only under the lease "lease/fetch/<connection>",
// so of several nodes sharing one store one at a time fetches a
// connection, whether the job was started by hand or by a schedule. The
// in-process guard (Runner.running) answers first on this node; the lease
// answers for the others. A job whose lease is lost (its node could not
// renew it) is cancelled: it fails, and the cursor it committed last is
// where the next job continues. On one node the lease is always free
// when the in-process guard is.

// LeaseName names the fetch lease of connection.
func LeaseName(connection string) string { return "fetch/" + url.PathEscape(connection) }

// takeLease takes conn's fetch lease for st, or fails with ErrBusy naming
// the other node's running job (as stored).
func (r *Runner) takeLease(ctx, jobCtx context.Context, st *jobState) error {
	name := st.job.Connection
	x, err := r.o.Leases.Acquire(jobCtx, LeaseName(name))
	if err != nil {
		return fmt.Errorf("connection %s: fetch lease: %w", name, err)
	}
	if x == nil {
		return &ErrBusy{Job: r.runningElsewhere(ctx, name)}
	}
	st.lease = x
	return nil
}

// runningElsewhere is the newest stored job of connection, which another
// node is running; a bare running record when none is stored yet.
func (r *Runner) runningElsewhere(ctx context.Context, connection string) Job {
	jobs, err := listJobs(ctx, r.o.Store.KV(), connection)
	if err == nil && len(jobs) > 0 && jobs[len(jobs)-1].Status == StatusRunning {
		return *jobs[len(jobs)-1]
	}
	return Job{Connection: connection, Status: StatusRunning}
}

func (r *Runner) releaseLease(st *jobState) {
	if st.lease == nil {
		return
	}
	if err := st.lease.Release(context.Background()); err != nil {
		r.log.Warn("fetch lease not released; it expires after its TTL", "connection", st.job.Connection, "err", err)
	}
}

// leaseHeld reports whether some node holds connection's fetch lease, so
// a "running" record is not a crash's leftover but another node's job.
func leaseHeld(ctx context.Context, kv store.KV, connection string) (bool, error) {
	_, err := kv.Get(ctx, lease.Key(LeaseName(connection)))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
