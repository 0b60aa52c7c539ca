package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Marketo allows 100 calls per 20 s per instance. The plugin runs as a pool
// of Wasm instances that share no memory, so the budget is kept twice:
//
//   - exactly, per instance, as a sliding window of call times; and
//   - approximately, per connection, as a count of calls per 2-second bucket
//     in the host KV (key rateKey), so that all instances of a connection see
//     each other's calls. A call is admitted when the last 11 buckets (20–22
//     s) hold fewer than the limit, which keeps every 20 s window within it.
//     The KV has no atomic increment: two instances that read the counter at
//     the same moment both write their own +1 and one increment is lost. The
//     count can therefore run low by up to (pool size − 1) per such race.
//
// Neither waits: a call over budget fails at once with a retryable error
// whose RetryAfter is when the window frees up, and the workflow engine (or
// the next fetch job) tries again then. Sleeping inside a guest would hold an
// instance and its call deadline for up to 20 s. Marketo's own 606 (rate) and
// 615 (concurrency) answers, which also cover other integrations using the
// same instance, are mapped the same way (apiError).
const (
	rateKey     = "ratelimit"
	bucketWidth = 2 * time.Second
	nBuckets    = int(rateWindow/bucketWidth) + 1
)

type limiter struct {
	limit int
	kv    pluginsdk.KV // nil: per-instance only
	log   *slog.Logger

	mu    sync.Mutex
	calls []time.Time // ring of the last `limit` call times
	next  int
}

func newLimiter(limit int, kv pluginsdk.KV, log *slog.Logger) *limiter {
	return &limiter{limit: limit, kv: kv, log: log, calls: make([]time.Time, 0, min(limit, 1024))}
}

// take admits one call at now, or returns a retryable error saying when to
// try again.
func (l *limiter) take(ctx context.Context, now time.Time) error {
	if l.limit <= 0 {
		return nil // rate_limit: 0, Marketo's 606 is the only limit
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.calls) == l.limit {
		if oldest := l.calls[l.next]; now.Sub(oldest) < rateWindow {
			return rateLimited(l.limit, "this instance", oldest.Add(rateWindow).Sub(now))
		}
	}
	if l.kv != nil {
		wait, err := l.takeShared(ctx, now)
		if err != nil {
			// The shared count is an optimisation over Marketo's own 606;
			// a KV failure must not stop calls.
			if l.log != nil {
				l.log.Debug("marketo shared rate window unavailable", "err", err)
			}
		} else if wait > 0 {
			return rateLimited(l.limit, "the connection", wait)
		}
	}
	if len(l.calls) < l.limit {
		l.calls = append(l.calls, now)
	} else {
		l.calls[l.next] = now
		l.next = (l.next + 1) % l.limit
	}
	return nil
}

func (l *limiter) takeShared(ctx context.Context, now time.Time) (time.Duration, error) {
	v, found, err := l.kv.Get(ctx, rateKey)
	if err != nil {
		return 0, err
	}
	var w window
	if found {
		w, _ = parseWindow(v) // an unreadable value starts afresh
	}
	w, wait := w.admit(now, l.limit)
	if wait > 0 {
		return wait, nil
	}
	return 0, l.kv.Set(ctx, rateKey, w.encode(), rateWindow+2*bucketWidth)
}

func rateLimited(limit int, scope string, wait time.Duration) *pluginsdk.Error {
	wait = max(wait.Round(time.Millisecond), 100*time.Millisecond)
	return &pluginsdk.Error{
		Code: "rate_limited", Retryable: true, RetryAfter: wait,
		Message: fmt.Sprintf("marketo: %s has made %d calls in the last 20 s (Marketo's rate limit); retry after %s", scope, limit, wait),
	}
}

// window counts calls per bucket: counts[0] is bucket number `bucket`
// (Unix time / bucketWidth), counts[i] the bucket i before it.
type window struct {
	bucket int64
	counts [nBuckets]int
}

// admit moves w to now and, if the last nBuckets hold fewer than limit
// calls, counts one more; otherwise it returns how long until enough of the
// oldest buckets have left the window.
func (w window) admit(now time.Time, limit int) (window, time.Duration) {
	cur := now.UnixNano() / int64(bucketWidth)
	if d := cur - w.bucket; d >= int64(nBuckets) {
		w.counts = [nBuckets]int{}
	} else if d > 0 {
		copy(w.counts[d:], w.counts[:nBuckets-int(d)])
		clear(w.counts[:d])
	}
	// A bucket in the future (another host's clock ahead) is counted as now.
	if cur > w.bucket {
		w.bucket = cur
	}
	sum := 0
	for _, c := range w.counts {
		sum += c
	}
	if sum < limit {
		w.counts[0]++
		return w, 0
	}
	// Dropping the s oldest buckets happens when the clock reaches bucket
	// w.bucket+s.
	for s := 1; s <= nBuckets; s++ {
		sum -= w.counts[nBuckets-s]
		if sum < limit {
			return w, time.Duration((w.bucket+int64(s))*int64(bucketWidth) - now.UnixNano())
		}
	}
	return w, rateWindow // unreachable: dropping every bucket leaves 0
}

// encode writes "bucket c0,c1,...".
func (w window) encode() []byte {
	b := strconv.AppendInt(nil, w.bucket, 10)
	b = append(b, ' ')
	for i, c := range w.counts {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(c), 10)
	}
	return b
}

func parseWindow(b []byte) (window, error) {
	var w window
	head, tail, ok := strings.Cut(string(b), " ")
	if !ok {
		return window{}, fmt.Errorf("rate window %q: no bucket", b)
	}
	bucket, err := strconv.ParseInt(head, 10, 64)
	if err != nil {
		return window{}, fmt.Errorf("rate window %q: %w", b, err)
	}
	w.bucket = bucket
	for i, s := range strings.Split(tail, ",") {
		if i >= nBuckets {
			break
		}
		c, err := strconv.Atoi(s)
		if err != nil || c < 0 {
			return window{}, fmt.Errorf("rate window %q: bad count %q", b, s)
		}
		w.counts[i] = c
	}
	return w, nil
}
