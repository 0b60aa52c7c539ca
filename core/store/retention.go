package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/oklog/ulid/v2"
)

// RetentionPolicy says what an Expirer removes. A zero duration keeps
// that kind of record forever.
type RetentionPolicy struct {
	// Events expire this long after they were received, but never before
	// the dispatcher has handled them (Floor).
	Events time.Duration
	// Runs expire this long after they were created, once finished; runs
	// still queued, running or retrying are kept whatever their age.
	Runs time.Duration
	// DeadLetters replaces Runs for dead-lettered runs; a replay clears the
	// mark, and the run then expires as any other.
	DeadLetters time.Duration
	// MaxDataBytes caps the data directory: while it is over, the oldest
	// events (up to Floor), then the oldest finished runs that are not dead
	// letters, are expired early. Zero: no cap.
	MaxDataBytes int64
	// Floor returns the newest log sequence that may be expired: the
	// dispatcher's cursor, so an event not yet turned into runs is never
	// lost. Nil: every event may expire (no dispatcher reads the log).
	Floor func() uint64
	// Interval between sweeps. Zero: a tenth of the shortest duration,
	// between 1s and 1m.
	Interval time.Duration
}

func (p RetentionPolicy) interval() time.Duration {
	if p.Interval > 0 {
		return p.Interval
	}
	shortest := time.Duration(0)
	for _, d := range []time.Duration{p.Events, p.Runs, p.DeadLetters} {
		if d > 0 && (shortest == 0 || d < shortest) {
			shortest = d
		}
	}
	return min(max(shortest/10, time.Second), time.Minute)
}

// Sweep is what one pass of the Expirer removed.
type Sweep struct {
	At     time.Time `json:"at"`
	Events int       `json:"events"`
	Runs   int       `json:"runs"`
	// Bytes is the size of the removed records (before compaction gives
	// the space back).
	Bytes int64 `json:"bytes"`
	// Compacted is set when the pass compacted the tree to return space.
	Compacted bool   `json:"compacted,omitempty"`
	Error     string `json:"error,omitempty"`
}

// expiryBatch is how many records one delete op holds. Each op joins a
// group commit like any append, so it must stay small enough not to delay
// the appends it shares a sync with.
const expiryBatch = 256

// Expirer removes expired events and runs in the background. Deletes are
// Badger tombstones: disk space returns only once compaction drops the
// deleted records, so after a large expiry the Expirer flattens the tree
// (see reclaim).
type Expirer struct {
	b   *Badger
	p   RetentionPolicy
	now func() time.Time

	mu      sync.Mutex // one pass at a time; guards the fields below
	logLow  uint64     // no live event below this sequence
	runLow  string     // no expirable run sorts before this ID
	pending int64      // bytes removed since the last compaction
	mark    uint64     // highest table ID when pending started
	last    Sweep

	stop chan struct{}
	done chan struct{}
}

// StartExpiry starts sweeping in the background with p. Close stops it;
// call it before closing the store.
func (b *Badger) StartExpiry(p RetentionPolicy) *Expirer {
	x := b.newExpirer(p)
	go x.loop()
	return x
}

func (b *Badger) newExpirer(p RetentionPolicy) *Expirer {
	return &Expirer{b: b, p: p, now: b.now, stop: make(chan struct{}), done: make(chan struct{})}
}

// Close stops the background sweeps and waits for the current one.
func (x *Expirer) Close() {
	select {
	case <-x.stop:
	default:
		close(x.stop)
	}
	<-x.done
}

// Policy returns the policy the Expirer applies.
func (x *Expirer) Policy() RetentionPolicy { return x.p }

// Last returns the outcome of the latest pass.
func (x *Expirer) Last() Sweep {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.last
}

func (x *Expirer) loop() {
	defer close(x.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-x.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	t := time.NewTicker(x.p.interval())
	defer t.Stop()
	for {
		select {
		case <-x.stop:
			return
		case <-t.C:
		}
		if _, err := x.Sweep(ctx); err != nil && ctx.Err() == nil {
			x.b.logger.Warn("store expiry", "err", err)
		}
	}
}

// Sweep runs one pass now: expiry by age, then by size, then compaction
// when enough was removed.
func (x *Expirer) Sweep(ctx context.Context) (Sweep, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	now := x.now()
	s := Sweep{At: now.UTC()}
	err := x.sweep(ctx, now, &s)
	if err != nil {
		s.Error = err.Error()
	}
	x.last = s
	return s, err
}

func (x *Expirer) sweep(ctx context.Context, now time.Time, s *Sweep) error {
	floor := ^uint64(0)
	if x.p.Floor != nil {
		floor = x.p.Floor()
	}
	if x.p.Events > 0 {
		n, bytes, err := x.expireEvents(ctx, now.Add(-x.p.Events), floor, 0)
		s.Events, s.Bytes = s.Events+n, s.Bytes+bytes
		if err != nil {
			return err
		}
	}
	if x.p.Runs > 0 || x.p.DeadLetters > 0 {
		n, bytes, err := x.expireRuns(ctx, ageCutoff(now, x.p.Runs), ageCutoff(now, x.p.DeadLetters), 0)
		s.Runs, s.Bytes = s.Runs+n, s.Bytes+bytes
		if err != nil {
			return err
		}
	}
	if x.p.MaxDataBytes > 0 {
		if err := x.enforceCap(ctx, now, floor, s); err != nil {
			return err
		}
	}
	x.pending += s.Bytes
	return x.reclaim(ctx, s)
}

// ageCutoff is the creation time before which records of that age are
// expired; a zero age expires nothing.
func ageCutoff(now time.Time, age time.Duration) time.Time {
	if age <= 0 {
		return time.Time{}
	}
	return now.Add(-age)
}

// enforceCap expires the oldest records, whatever their age, until the
// estimate of what they free covers the excess. The disk only shrinks
// after compaction, so the next pass measures again rather than deleting
// more now.
func (x *Expirer) enforceCap(ctx context.Context, now time.Time, floor uint64, s *Sweep) error {
	u, err := x.b.diskUsage()
	if err != nil {
		return err
	}
	over := u.DataBytes - x.p.MaxDataBytes - x.pending
	if over <= 0 {
		return nil
	}
	n, bytes, err := x.expireEvents(ctx, now.Add(time.Nanosecond), floor, over)
	s.Events, s.Bytes, over = s.Events+n, s.Bytes+bytes, over-bytes
	if err != nil || over <= 0 {
		return err
	}
	// Dead letters and unfinished runs are kept: losing them loses work.
	n, bytes, err = x.expireRuns(ctx, now.Add(time.Nanosecond), time.Time{}, over)
	s.Runs, s.Bytes = s.Runs+n, s.Bytes+bytes
	return err
}

// expireEvents deletes events received before cutoff with Seq <= floor,
// oldest first, stopping once budget bytes are removed (0: no budget).
func (x *Expirer) expireEvents(ctx context.Context, cutoff time.Time, floor uint64, budget int64) (int, int64, error) {
	var n int
	var bytes int64
	for {
		start := time.Now()
		keys, size, more, err := x.scanEvents(cutoff, floor, budget-bytes, budget > 0)
		if err != nil || len(keys) == 0 {
			return n, bytes, err
		}
		if err := x.b.deleteKeys(ctx, keys); err != nil {
			return n, bytes, fmt.Errorf("expire events: %w", err)
		}
		if err := x.pace(ctx, time.Since(start)); err != nil {
			return n, bytes, err
		}
		last, _ := seqOfLogKey(keys[len(keys)-1])
		x.logLow = last + 1
		n += len(keys)
		bytes += size
		if !more {
			return n, bytes, nil
		}
	}
}

// scanEvents collects up to expiryBatch expired log keys from logLow; more
// reports that the scan stopped only because the batch was full.
func (x *Expirer) scanEvents(cutoff time.Time, floor uint64, budget int64, useBudget bool) (keys [][]byte, size int64, more bool, err error) {
	err = x.b.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefixLog)
		opts.PrefetchSize = expiryBatch
		it, done := iterate(txn, opts)
		defer done()
		for it.Seek(logKey(x.logLow)); it.Valid(); it.Next() {
			if len(keys) == expiryBatch {
				more = true
				return nil
			}
			item := it.Item()
			seq, err := seqOfLogKey(item.Key())
			if err != nil {
				return err
			}
			if seq > floor || (useBudget && size >= budget) {
				return nil
			}
			var received time.Time
			if err := item.Value(func(v []byte) error {
				received, err = eventReceivedAt(seq, v)
				return err
			}); err != nil {
				return err
			}
			if !received.Before(cutoff) {
				return nil // the log is in arrival order: the rest is younger
			}
			keys = append(keys, item.KeyCopy(nil))
			size += int64(len(item.Key())) + item.ValueSize()
		}
		return nil
	})
	return keys, size, more, err
}

// eventReceivedAt decodes only the header of an event record.
func eventReceivedAt(seq uint64, v []byte) (time.Time, error) {
	d := decoder{b: v}
	if d.byte() != eventCodecV1 {
		return time.Time{}, fmt.Errorf("event %d: %w: unknown version", seq, errCorrupt)
	}
	d.string()
	d.string()
	d.string()
	t := d.time()
	if d.err {
		return time.Time{}, fmt.Errorf("event %d: %w", seq, errCorrupt)
	}
	return t, nil
}

// expireRuns deletes finished runs created before cutoff, and dead letters
// created before deadCutoff (zero: dead letters are kept), oldest first,
// stopping once budget bytes are removed (0: no budget).
func (x *Expirer) expireRuns(ctx context.Context, cutoff, deadCutoff time.Time, budget int64) (int, int64, error) {
	stopAt := cutoff
	if deadCutoff.After(stopAt) {
		stopAt = deadCutoff
	}
	if stopAt.IsZero() {
		return 0, 0, nil
	}
	var n int
	var bytes int64
	from, firstKept := x.runLow, ""
	for {
		start := time.Now()
		page, err := x.scanRuns(from, stopAt, cutoff, deadCutoff, budget-bytes, budget > 0)
		if err != nil {
			return n, bytes, err
		}
		if firstKept == "" {
			firstKept = page.firstKept
		}
		if len(page.ids) > 0 {
			o := &runExpireOp{writeOp: newWriteOp(ctx), ids: page.ids, dead: page.dead}
			if err := x.b.commit.submit(ctx, o, o.done); err != nil {
				return n, bytes, fmt.Errorf("expire runs: %w", err)
			}
			if err := x.pace(ctx, time.Since(start)); err != nil {
				return n, bytes, err
			}
			n += o.deleted
			bytes += page.size
			from = page.ids[len(page.ids)-1]
		}
		if !page.more {
			break
		}
		from = page.next
	}
	if firstKept != "" {
		x.runLow = firstKept
	} else {
		x.runLow = from
	}
	return n, bytes, nil
}

type runPage struct {
	ids       []string
	dead      []bool // the run may go even if it is a dead letter
	size      int64
	firstKept string
	more      bool
	next      string // where the next page starts
}

func (x *Expirer) scanRuns(from string, stopAt, cutoff, deadCutoff time.Time, budget int64, useBudget bool) (runPage, error) {
	var p runPage
	err := x.b.view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefixRun)
		opts.PrefetchSize = expiryBatch
		it, done := iterate(txn, opts)
		defer done()
		for it.Seek(runKey(from)); it.Valid(); it.Next() {
			item := it.Item()
			id := string(item.Key()[len(prefixRun):])
			if len(p.ids) == expiryBatch {
				p.more, p.next = true, id
				return nil
			}
			if useBudget && p.size >= budget {
				return nil
			}
			var h runHeader
			var created time.Time
			if err := item.Value(func(v []byte) error {
				var err error
				h, created, err = runAge(id, v)
				return err
			}); err != nil {
				return fmt.Errorf("run %s: %w", id, err)
			}
			if !created.Before(stopAt) {
				return nil // IDs sort by creation time: the rest is younger
			}
			if expirable(h, created, cutoff, deadCutoff) {
				p.ids = append(p.ids, id)
				p.dead = append(p.dead, h.deadLetter)
				p.size += int64(len(item.Key())) + item.ValueSize()
			} else if p.firstKept == "" {
				p.firstKept = id
			}
		}
		return nil
	})
	return p, err
}

func expirable(h runHeader, created, cutoff, deadCutoff time.Time) bool {
	switch h.status {
	case StatusQueued, StatusRunning, StatusRetrying:
		return false
	}
	if h.deadLetter {
		return !deadCutoff.IsZero() && created.Before(deadCutoff)
	}
	return !cutoff.IsZero() && created.Before(cutoff)
}

// runAge returns a run's header and creation time: from its ID when that
// is the engine's "run_<ULID>", else from the stored CreatedAt.
func runAge(id string, v []byte) (runHeader, time.Time, error) {
	h, _, err := decodeRunHeader(v)
	if err != nil {
		return h, time.Time{}, err
	}
	if rest, ok := strings.CutPrefix(id, "run_"); ok {
		if u, err := ulid.ParseStrict(strings.ToUpper(rest)); err == nil {
			return h, ulid.Time(u.Time()), nil
		}
	}
	r, err := decodeRun(v)
	if err != nil {
		return h, time.Time{}, err
	}
	return h, r.CreatedAt, nil
}

// runExpireOp deletes runs with their index entries. The header is read
// again inside the transaction: a run replayed (its dead-letter mark
// cleared) or resumed since the scan is judged by its current state.
type runExpireOp struct {
	writeOp
	ids     []string
	dead    []bool
	deleted int
}

func (o *runExpireOp) reclaims() {}

func (o *runExpireOp) cost() (int64, int64) {
	var size int64
	for _, id := range o.ids {
		size += 5 * entryCost(len(prefixIdxWfStatus)+len(id)+64, 0)
	}
	return int64(5 * len(o.ids)), size
}

func (o *runExpireOp) apply(b *batch) error {
	o.deleted = 0
	for i, id := range o.ids {
		key := runKey(id)
		h, found, err := readRunHeader(b.txn, key)
		if err != nil {
			return err
		}
		if !found || h.status == StatusQueued || h.status == StatusRunning || h.status == StatusRetrying || (h.deadLetter && !o.dead[i]) {
			continue
		}
		if err := b.txn.Delete(key); err != nil {
			return err
		}
		for _, k := range indexKeys(id, h) {
			if err := b.txn.Delete(k); err != nil {
				return err
			}
		}
		b.countDelta(h.status, -1)
		o.deleted++
	}
	return nil
}

// deleteOp deletes keys (expired events).
type deleteOp struct {
	writeOp
	keys [][]byte
}

func (o *deleteOp) reclaims() {}

func (o *deleteOp) cost() (int64, int64) {
	var size int64
	for _, k := range o.keys {
		size += entryCost(len(k), 0)
	}
	return int64(len(o.keys)), size
}

func (o *deleteOp) apply(b *batch) error {
	for _, k := range o.keys {
		if err := b.txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

func (b *Badger) deleteKeys(ctx context.Context, keys [][]byte) error {
	o := &deleteOp{writeOp: newWriteOp(ctx), keys: keys}
	return b.commit.submit(ctx, o, o.done)
}
