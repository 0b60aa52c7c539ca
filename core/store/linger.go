package store

import "time"

// Group commit without a linger settles into cohorts. While one transaction
// syncs, the callers it carries are blocked and the others queue up; when the
// sync ends the committer starts the next transaction with the queue at once,
// and the callers just answered come back during that sync. With 64 writers
// two cohorts of about 32 alternate, every caller waits for two syncs, and a
// commit carries half of what it could: measured on a 2-core machine, a
// synced commit took 3-3.6 ms whether it held 1 or 32 appends, so the log
// topped out near 8.6k appends/s at 64 writers (issue 12).
//
// So before the committer starts a transaction it waits, briefly, for the
// callers the last commit answered to come back, when that commit carried
// enough of them to suggest concurrent writers: until as many ops have
// arrived since it ended as it carried, or a fraction of its own duration
// has passed, whichever is first. A lone writer never waits (its commit
// carried too few), and nothing is acknowledged any earlier: each op is
// still answered only after the transaction holding it is synced.
//
// Callers that take longer than that to come back (HTTP clients on a busy
// machine, whose round trip outlasts a sync) gain nothing from the wait, and
// each wait would delay the ops already queued; so after a wait that ran out
// with fewer than half of them back, the committer does not linger again for
// lingerBackoff commits.
const (
	// lingerMinBatch: a last commit carrying fewer ops than this is not
	// taken as a sign of concurrent writers.
	lingerMinBatch = 4
	// lingerShare of the last commit's duration is the longest wait, and
	// lingerMax caps it: waiting costs the callers already queued, and a
	// commit that took long (a slow disk) should not double their wait.
	lingerShare = 4 // a quarter
	lingerMax   = time.Millisecond
	// lingerBackoff: commits made without lingering after a wait ran out.
	lingerBackoff = 16
)

// lingerState is the committer's record of its last commit; committer
// goroutine only, except arrivals, which is guarded by committer.mu.
type lingerState struct {
	lastBatch int           // ops the last transaction carried
	lastTook  time.Duration // its commit, sync included
	arrivals  int           // ops submitted since it ended (committer.mu)
	// skip counts down the commits made without lingering after a wait
	// that ran out.
	skip int
}

// lingerFor is how long to wait at most for the last commit's callers, or 0.
func (l *lingerState) lingerFor() time.Duration {
	if l.lastBatch < lingerMinBatch || l.skip > 0 {
		return 0
	}
	return min(l.lastTook/lingerShare, lingerMax)
}

// linger waits until the callers of the last commit have come back (as many
// arrivals as it carried), the linger time has passed, or the committer is
// stopping.
func (c *committer) linger() {
	wait := c.lingered.lingerFor()
	if wait <= 0 {
		return
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		back := c.lingered.arrivals >= c.lingered.lastBatch
		c.mu.Unlock()
		if back {
			return
		}
		select {
		case <-c.wake: // a submit: count again
		case <-deadline.C:
			c.mu.Lock()
			if c.lingered.arrivals*2 < c.lingered.lastBatch {
				c.lingered.skip = lingerBackoff
			}
			c.mu.Unlock()
			return
		case <-c.stop:
			return
		}
	}
}

// committed records a transaction that carried n ops and took d.
func (c *committer) committed(n int, d time.Duration) {
	c.mu.Lock()
	c.lingered = lingerState{lastBatch: n, lastTook: d, skip: max(c.lingered.skip-1, 0)}
	c.mu.Unlock()
	c.stats.commits.Add(1)
	c.stats.ops.Add(int64(n))
	c.stats.nanos.Add(int64(d))
}
