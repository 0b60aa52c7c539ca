package jetstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"
)

// Expirer applies a store.RetentionPolicy to the stream. It cannot be the
// stream's own MaxAge or MaxBytes: those would drop the dispatcher's
// cursor, leases and unfinished runs with the old events. Every node may
// run one; purges are idempotent.
type Expirer struct {
	s *Store
	p store.RetentionPolicy

	mu   sync.Mutex
	last store.Sweep

	stop chan struct{}
	done chan struct{}
}

// expiryRuns bounds the runs one pass purges (one request each).
const expiryRuns = 1000

// StartExpiry sweeps in the background with p until Close.
func (s *Store) StartExpiry(p store.RetentionPolicy) *Expirer {
	x := &Expirer{s: s, p: p, stop: make(chan struct{}), done: make(chan struct{})}
	go x.loop()
	return x
}

// Close stops the sweeps and waits for the current one.
func (x *Expirer) Close() {
	select {
	case <-x.stop:
	default:
		close(x.stop)
	}
	<-x.done
}

// Last returns the outcome of the latest pass.
func (x *Expirer) Last() store.Sweep {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.last
}

func (x *Expirer) loop() {
	defer close(x.done)
	every := x.p.SweepEvery()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-x.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		sw := x.Sweep(ctx)
		cancel()
		if sw.Error != "" {
			x.s.log.Warn("jetstream store expiry", "err", sw.Error)
		}
	}
}

// Sweep runs one pass now: events older than Events (never past Floor),
// finished runs older than Runs (dead letters: DeadLetters), then, while
// the stream holds more than MaxDataBytes, the oldest events up to Floor
// and the oldest finished runs that are not dead letters.
func (x *Expirer) Sweep(ctx context.Context) store.Sweep {
	sw := store.Sweep{At: x.s.now().UTC()}
	err := x.sweep(ctx, &sw)
	if err != nil {
		sw.Error = err.Error()
	}
	x.mu.Lock()
	x.last = sw
	x.mu.Unlock()
	return sw
}

func (x *Expirer) sweep(ctx context.Context, sw *store.Sweep) error {
	s := x.s
	if s.isClosed() {
		return store.ErrClosed
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	before := info.State.Bytes
	now := s.now()
	if x.p.Events > 0 {
		upTo, err := x.firstEventAt(ctx, now.Add(-x.p.Events), info.State.LastSeq+1)
		if err != nil {
			return err
		}
		n, err := x.purgeEvents(ctx, upTo)
		sw.Events += n
		if err != nil {
			return err
		}
	}
	if x.p.Runs > 0 || x.p.DeadLetters > 0 {
		n, err := x.purgeRuns(ctx, func(id string, e runEntry) bool {
			limit := x.p.Runs
			if e.dead {
				limit = x.p.DeadLetters
			}
			return limit > 0 && idTime(id).Before(now.Add(-limit))
		}, expiryRuns, nil)
		sw.Runs += n
		if err != nil {
			return err
		}
	}
	if x.p.MaxDataBytes > 0 {
		if err := x.capBytes(ctx, sw); err != nil {
			return err
		}
	}
	if info, err = s.stream.Info(ctx); err == nil && info.State.Bytes < before {
		sw.Bytes = int64(before - info.State.Bytes)
	}
	return nil
}

// firstEventAt is the sequence of the first event received at or after t
// (by the stream's timestamps); end when there is none.
func (x *Expirer) firstEventAt(ctx context.Context, t time.Time, end uint64) (uint64, error) {
	msgs, err := x.s.fetch(ctx, jetstream.ConsumerConfig{
		FilterSubject: x.s.subj("ev", ">"),
		DeliverPolicy: jetstream.DeliverByStartTimePolicy,
		OptStartTime:  &t,
		HeadersOnly:   true,
	}, 1)
	if err != nil {
		return 0, fmt.Errorf("find events to expire: %w", err)
	}
	for _, m := range msgs {
		if meta, err := m.Metadata(); err == nil {
			end = meta.Sequence.Stream
		}
	}
	return end, nil
}

// purgeEvents removes the events below upTo, never past the floor (the
// dispatcher's cursor), and returns how many went.
func (x *Expirer) purgeEvents(ctx context.Context, upTo uint64) (int, error) {
	if x.p.Floor != nil {
		upTo = min(upTo, x.p.Floor()+1)
	}
	before, err := x.s.countEvents(ctx)
	if err != nil {
		return 0, err
	}
	if before == 0 || upTo <= 1 {
		return 0, nil
	}
	if err := x.s.stream.Purge(ctx, jetstream.WithPurgeSubject(x.s.subj("ev", ">")), jetstream.WithPurgeSequence(upTo)); err != nil {
		return 0, fmt.Errorf("purge events below %d: %w", upTo, err)
	}
	after, err := x.s.countEvents(ctx)
	if err != nil {
		return 0, err
	}
	return int(before - after), nil
}

// purgeRuns purges up to max finished runs that expired says may go,
// oldest first, re-reading each so that a run resumed or replayed since
// the index saw it is judged by its current state. stop, when set, ends
// the pass early.
func (x *Expirer) purgeRuns(ctx context.Context, expired func(string, runEntry) bool, max int, stop func() bool) (int, error) {
	s := x.s
	entries := s.runs.entries()
	var ids []string
	for id, e := range entries {
		if !unfinished(e.status) && expired(id, e) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	n := 0
	for _, id := range ids {
		if n == max || stop != nil && stop() {
			break
		}
		r, err := s.getRun(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if unfinished(r.Status) || !expired(id, runEntry{status: r.Status, dead: r.DeadLetter}) {
			continue
		}
		if err := s.stream.Purge(ctx, jetstream.WithPurgeSubject(s.runSubj(id))); err != nil {
			return n, fmt.Errorf("purge run %s: %w", id, err)
		}
		s.runs.remove(id)
		n++
	}
	return n, nil
}

// capBytes expires early while the stream is over MaxDataBytes: events up
// to the floor a tenth at a time, then finished runs that are not dead
// letters.
func (x *Expirer) capBytes(ctx context.Context, sw *store.Sweep) error {
	over := func() (bool, error) {
		info, err := x.s.stream.Info(ctx)
		if err != nil {
			return false, err
		}
		return int64(info.State.Bytes) > x.p.MaxDataBytes, nil
	}
	for range 10 {
		if o, err := over(); err != nil || !o {
			return err
		}
		first, err := x.firstEventAt(ctx, time.Unix(0, 0), 0)
		if err != nil {
			return err
		}
		if first == 0 {
			break // no events left
		}
		step := max((x.s.lastSeq.get()-first)/10, 1)
		n, err := x.purgeEvents(ctx, first+step)
		sw.Events += n
		if err != nil {
			return err
		}
		if n == 0 {
			break // held back by the floor
		}
	}
	var overErr error
	n, err := x.purgeRuns(ctx, func(_ string, e runEntry) bool { return !e.dead }, expiryRuns, func() bool {
		o, err := over()
		overErr = err
		return err != nil || !o
	})
	sw.Runs += n
	if err != nil {
		return err
	}
	return overErr
}

func idTime(id string) time.Time {
	u, err := ulid.ParseStrict(id)
	if err != nil {
		return time.Now() // not a ULID: never old
	}
	return ulid.Time(u.Time())
}

// countEvents is how many events the stream holds.
func (s *Store) countEvents(ctx context.Context) (uint64, error) {
	cons, err := s.consumer(ctx, jetstream.ConsumerConfig{FilterSubject: s.subj("ev", ">"), DeliverPolicy: jetstream.DeliverAllPolicy, HeadersOnly: true})
	if err != nil {
		return 0, fmt.Errorf("count events: %w", err)
	}
	info := cons.CachedInfo()
	_ = s.stream.DeleteConsumer(ctx, info.Name)
	return info.NumPending, nil
}

// Usage reports the stream's size and contents for GET /api/v1/status.
// Disk is the stream's stored bytes (on each replica); free space is the
// servers' business and left zero.
func (s *Store) Usage(ctx context.Context) (store.Usage, error) {
	var u store.Usage
	if s.isClosed() {
		return u, store.ErrClosed
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return u, fmt.Errorf("store usage: %w", err)
	}
	u.Disk.DataBytes = int64(info.State.Bytes)
	if u.Events.Count, err = s.countEvents(ctx); err != nil {
		return u, fmt.Errorf("store usage: %w", err)
	}
	if u.Events.Count > 0 {
		evs, err := s.Log().Read(ctx, 0, 1)
		if err != nil {
			return u, fmt.Errorf("store usage: %w", err)
		}
		if len(evs) == 1 {
			e := evs[0]
			e.Payload = nil
			u.Events.Oldest = &e
		}
	}
	// DedupKeys stays zero: open windows are headers of the events
	// themselves, and counting them would read every dedup subject.
	u.Runs = s.runs.counts()
	for _, e := range s.runs.entries() {
		if e.dead {
			u.DeadLetters++
		}
	}
	return u, nil
}
