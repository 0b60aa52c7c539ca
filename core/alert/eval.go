package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/junctionhub/junction/core/config"
)

type sigKind int

const (
	sigRun sigKind = iota + 1
	sigFetch
	sigMissed
	sigAuth
)

// signal is one thing that happened, as the hub reported it.
type signal struct {
	kind                 sigKind
	workflow, connection string
	failed, deadLetter   bool
	n                    int
	detail               string
}

// state is what is kept of an alert across restarts.
type state struct {
	// Hash is the definition's; a changed definition starts afresh.
	Hash   string    `json:"hash"`
	Firing bool      `json:"firing"`
	Since  time.Time `json:"since,omitzero"`
	// Announced says a notice went out for the current (or last) episode,
	// so its resolution is announced too.
	Announced  bool      `json:"announced,omitempty"`
	LastNotice time.Time `json:"lastNotice,omitzero"`
	// Pending counts the occurrences since the last notice; Total those of
	// the current episode.
	Pending int `json:"pending,omitempty"`
	Total   int `json:"total,omitempty"`
	// Seq numbers the alert's notices (their idempotency keys).
	Seq        int64    `json:"seq,omitempty"`
	LastDetail string   `json:"lastDetail,omitempty"`
	Buckets    []bucket `json:"buckets,omitempty"`
	// Failing holds the connections whose last fetch job failed, with why
	// (fetch_failed).
	Failing map[string]string `json:"failing,omitempty"`
	// LagSince is when the log lag went above the threshold (log_lag).
	LagSince time.Time `json:"lagSince,omitzero"`
	LastLag  uint64    `json:"lastLag,omitempty"`
}

// bucket counts a window's occurrences (Hits) and, for ratios, all
// finished runs (Total) from Start (Unix nanoseconds) for one bucket width.
type bucket struct {
	Start int64 `json:"s"`
	Hits  int   `json:"h,omitempty"`
	Total int   `json:"t,omitempty"`
}

// windowBuckets is how many buckets a window is measured in.
const windowBuckets = 30

// runtime is one alert and its state; the Engine's mu guards it.
type runtime struct {
	def *config.Alert
	st  *state
	// fresh counts occurrences matched since the last evaluation.
	fresh int
	dirty bool
}

// defHash identifies what an alert means: its condition, notification
// and cooldown, not where it is written (moving it in its file, or to
// another file, keeps its state).
func defHash(a *config.Alert) string {
	when, notify := a.When, a.Notify
	when.Pos, notify.Pos = config.Pos{}, config.Pos{}
	b, _ := json.Marshal(struct {
		When     config.AlertCondition
		Notify   config.AlertNotify
		Cooldown time.Duration
	}{when, notify, a.Cooldown})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// match applies s to the alert when it concerns it, and reports whether
// it did.
func (rt *runtime) match(s signal, now time.Time) bool {
	c := rt.def.When
	scoped := func(workflow, connection string) bool {
		return (c.Workflow == "" || c.Workflow == workflow) && (c.Connection == "" || c.Connection == connection)
	}
	switch {
	case c.Kind == config.AlertRunsFailed && s.kind == sigRun && s.workflow == c.Workflow:
		if s.failed {
			rt.count(now, 1, 1, s.detail)
		} else {
			rt.count(now, 0, 1, "")
		}
	case c.Kind == config.AlertRunDeadLettered && s.kind == sigRun && s.deadLetter && scoped(s.workflow, ""):
		rt.count(now, 1, 1, s.detail)
	case c.Kind == config.AlertScheduleMissed && s.kind == sigMissed && scoped(s.workflow, s.connection):
		rt.count(now, 1, 1, s.detail)
	case c.Kind == config.AlertAuthFailures && s.kind == sigAuth && scoped("", s.connection):
		rt.count(now, s.n, s.n, s.detail)
	case c.Kind == config.AlertFetchFailed && s.kind == sigFetch && scoped("", s.connection):
		if s.failed {
			if rt.st.Failing == nil {
				rt.st.Failing = map[string]string{}
			}
			rt.st.Failing[s.connection] = s.detail
			rt.st.LastDetail = s.detail
			rt.fresh++
		} else {
			delete(rt.st.Failing, s.connection)
		}
		rt.dirty = true
	default:
		return false
	}
	return true
}

// count adds hits occurrences among total to the current bucket.
func (rt *runtime) count(now time.Time, hits, total int, detail string) {
	width := bucketWidth(rt.def.When.Window)
	start := now.Truncate(width).UnixNano()
	if n := len(rt.st.Buckets); n > 0 && rt.st.Buckets[n-1].Start == start {
		rt.st.Buckets[n-1].Hits += hits
		rt.st.Buckets[n-1].Total += total
	} else {
		rt.st.Buckets = append(rt.st.Buckets, bucket{Start: start, Hits: hits, Total: total})
	}
	if hits > 0 {
		rt.fresh += hits
		rt.st.LastDetail = detail
	}
	rt.dirty = true
}

func bucketWidth(window time.Duration) time.Duration {
	return max(window/windowBuckets, time.Millisecond)
}

// windowCounts drops the buckets that left the window and sums the rest.
func (rt *runtime) windowCounts(now time.Time) (hits, total int) {
	w := rt.def.When.Window
	width := bucketWidth(w)
	from := now.Add(-w).UnixNano()
	keep := rt.st.Buckets[:0]
	for _, b := range rt.st.Buckets {
		if b.Start+int64(width) <= from {
			continue
		}
		keep = append(keep, b)
		hits += b.Hits
		total += b.Total
	}
	if len(keep) != len(rt.st.Buckets) {
		rt.dirty = true
	}
	rt.st.Buckets = keep
	return hits, total
}

// observeLag records the current log lag (log_lag).
func (rt *runtime) observeLag(lag uint64, now time.Time) {
	above := lag > uint64(rt.def.When.Above)
	switch {
	case above && rt.st.LagSince.IsZero():
		rt.st.LagSince = now
		rt.dirty = true
	case !above && !rt.st.LagSince.IsZero():
		rt.st.LagSince = time.Time{}
		rt.dirty = true
	}
	rt.st.LastLag = lag
}

// holds reports whether the alert's condition holds now, and how many
// occurrences made it hold (for the first notice).
func (rt *runtime) holds(now time.Time) (bool, int) {
	c := rt.def.When
	switch c.Kind {
	case config.AlertFetchFailed:
		return len(rt.st.Failing) > 0, len(rt.st.Failing)
	case config.AlertLogLag:
		if !rt.st.LagSince.IsZero() && now.Sub(rt.st.LagSince) >= c.For {
			return true, 1
		}
		return false, 0
	}
	hits, total := rt.windowCounts(now)
	if hits == 0 {
		return false, 0
	}
	if c.Count > 0 && hits < c.Count {
		return false, hits
	}
	if c.Ratio > 0 && (total < c.MinRuns || float64(hits) < c.Ratio*float64(total)) {
		return false, hits
	}
	return true, hits
}

// evaluate moves the alert's state on and queues the notices that the
// change calls for; e.mu is held.
func (e *Engine) evaluate(ctx context.Context, rt *runtime, now time.Time) {
	st := rt.st
	holds, made := rt.holds(now)
	fresh := rt.fresh
	rt.fresh = 0
	cooled := st.LastNotice.IsZero() || now.Sub(st.LastNotice) >= rt.def.Cooldown
	// Whatever the case below, the alert fires after it exactly when its
	// condition holds. The gauge moves first, before any notice is queued:
	// a reader who got the notice must not see the old state in /metrics.
	e.metrics.setFiring(rt.def.Name, holds)
	switch {
	case holds && !st.Firing:
		st.Firing, st.Since = true, now
		st.Total, st.Pending = made, made
		st.Announced = false
		if cooled {
			e.notify(ctx, rt, KindFiring, now)
		} else {
			e.log.Info("alert firing again within its cooldown; notice held", "alert", rt.def.Name)
			e.save(ctx, rt)
		}
	case holds && st.Firing:
		st.Total += fresh
		st.Pending += fresh
		if st.Pending > 0 && cooled {
			kind := KindRepeat
			if !st.Announced {
				kind = KindFiring
			}
			e.notify(ctx, rt, kind, now)
		}
	case !holds && st.Firing:
		st.Firing = false
		if st.Announced {
			e.notify(ctx, rt, KindResolved, now)
		} else {
			e.save(ctx, rt)
		}
		st.Pending, st.Total, st.Since = 0, 0, time.Time{}
		e.save(ctx, rt)
	}
}

// save writes the alert's state now: after a transition, a restart must
// not repeat a notice.
func (e *Engine) save(ctx context.Context, rt *runtime) {
	if err := saveState(ctx, e.o.KV, rt.def.Name, rt.st); err != nil {
		e.log.Error("alert state not saved", "alert", rt.def.Name, "err", err)
		return
	}
	rt.dirty = false
}

// failingConnections lists the connections a fetch_failed alert is
// firing for, sorted.
func (st *state) failingConnections() []string {
	return slices.Sorted(maps.Keys(st.Failing))
}
