package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// DefaultDedupWindow applies to an AppendRequest with a DedupKey and no
// DedupWindow.
const DefaultDedupWindow = 24 * time.Hour

const (
	defaultReadLimit = 100
	maxReadLimit     = 10000
)

type badgerLog Badger

// Append implements Log. It returns once the events are synced. When ctx
// ends before that, it returns ctx.Err() and the events may or may not have
// been committed: a caller that retries relies on DedupKey to avoid a
// second copy.
func (l *badgerLog) Append(ctx context.Context, reqs []AppendRequest) ([]AppendResult, error) {
	return l.append(ctx, reqs, nil)
}

// AppendWithKV implements Log; see Append for cancellation.
func (l *badgerLog) AppendWithKV(ctx context.Context, reqs []AppendRequest, kv []KVWrite) ([]AppendResult, error) {
	return l.append(ctx, reqs, kv)
}

func (l *badgerLog) append(ctx context.Context, reqs []AppendRequest, kv []KVWrite) ([]AppendResult, error) {
	if len(reqs) == 0 && len(kv) == 0 {
		return nil, nil
	}
	o, err := l.prepareAppend(ctx, reqs, kv)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	if err := l.commit.submit(ctx, o, o.done); err != nil {
		return nil, fmt.Errorf("append %d events: %w", len(reqs), err)
	}
	return o.results, nil
}

// prepareAppend validates and encodes on the caller's goroutine, so that the
// single committer only does what must be serial.
func (l *badgerLog) prepareAppend(ctx context.Context, reqs []AppendRequest, kv []KVWrite) (*appendOp, error) {
	o := &appendOp{writeOp: newWriteOp(ctx), recs: make([]appendRec, len(reqs))}
	received := l.now().UTC()
	for i, r := range reqs {
		if r.Connection == "" {
			return nil, fmt.Errorf("event %d: empty connection", i)
		}
		if len(r.Payload) > 0 && !fields.Valid(r.Payload) { // json.Valid's verdict, 3x faster
			return nil, fmt.Errorf("event %d of %s: payload is not valid JSON", i, r.Connection)
		}
		e := event.Event{
			Connection: r.Connection,
			Type:       r.Type,
			DedupKey:   r.DedupKey,
			ReceivedAt: received,
			OccurredAt: r.OccurredAt,
			Payload:    r.Payload,
		}
		rec := &o.recs[i]
		rec.value = encodeEvent(make([]byte, 0, 32+len(r.Connection)+len(r.Type)+len(r.DedupKey)+len(r.Payload)), &e)
		o.count++
		o.size += entryCost(len(prefixLog)+8, len(rec.value))
		if r.DedupKey != "" {
			rec.dedup = dedupKey(r.Connection, r.DedupKey)
			rec.window = r.DedupWindow
			if rec.window <= 0 {
				rec.window = DefaultDedupWindow
			}
			o.count++
			o.size += entryCost(len(rec.dedup), dedupValueLen)
		}
	}
	var err error
	if o.kv, err = prepareKV(kv); err != nil {
		return nil, err
	}
	for _, w := range o.kv {
		o.count++
		o.size += entryCost(len(w.key), len(w.value))
	}
	return o, nil
}

// appendRec is one event ready to be written.
type appendRec struct {
	value  []byte
	dedup  []byte // nil: no dedup
	window time.Duration
}

type appendOp struct {
	writeOp
	recs        []appendRec
	kv          []kvEntry
	count, size int64
	results     []AppendResult
}

func (o *appendOp) cost() (int64, int64) { return o.count, o.size }

// dedupValueLen is the size of a dedup record: the original event's
// sequence and the end of its window (Unix nanoseconds), checked against
// the store's clock rather than relying on Badger's whole-second TTL.
const dedupValueLen = 16

func (o *appendOp) apply(b *batch) error {
	o.results = o.results[:0]
	if err := checkGuards(b.txn, o.kv); err != nil {
		return cleanError{err}
	}
	for _, r := range o.recs {
		if r.dedup != nil {
			// Txn.Get sees this transaction's pending writes too, so a
			// duplicate within one batch is caught like any other.
			seq, found, err := lookupDedup(b, r.dedup)
			if err != nil {
				return err
			}
			if found {
				o.results = append(o.results, AppendResult{ID: event.FormatID(seq), Seq: seq, Duplicate: true})
				continue
			}
		}
		b.seq++
		if err := b.txn.Set(logKey(b.seq), r.value); err != nil {
			return err
		}
		if r.dedup != nil {
			v := make([]byte, dedupValueLen)
			binary.BigEndian.PutUint64(v, b.seq)
			binary.BigEndian.PutUint64(v[8:], uint64(b.now.Add(r.window).UnixNano()))
			e := badger.NewEntry(r.dedup, v)
			e.ExpiresAt = expiresAt(r.window)
			if err := b.txn.SetEntry(e); err != nil {
				return err
			}
		}
		b.events++
		o.results = append(o.results, AppendResult{ID: event.FormatID(b.seq), Seq: b.seq})
	}
	return applyKV(b.txn, o.kv)
}

// lookupDedup reports the sequence of the event holding a dedup key whose
// window is still open.
func lookupDedup(b *batch, key []byte) (uint64, bool, error) {
	item, err := b.txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read dedup key: %w", err)
	}
	var seq uint64
	var open bool
	err = item.Value(func(v []byte) error {
		if len(v) != dedupValueLen {
			return fmt.Errorf("dedup key %q: malformed value", key)
		}
		seq = binary.BigEndian.Uint64(v)
		open = int64(binary.BigEndian.Uint64(v[8:])) > b.now.UnixNano()
		return nil
	})
	return seq, open && err == nil, err
}

// Read implements Log. A limit of zero or less means 100; at most 10000
// events are returned per call.
func (l *badgerLog) Read(ctx context.Context, after uint64, limit int) ([]event.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if after == math.MaxUint64 {
		return nil, nil // nothing can follow, and after+1 would wrap to 0
	}
	if limit <= 0 {
		limit = defaultReadLimit
	}
	limit = min(limit, maxReadLimit)
	var out []event.Event
	err := (*Badger)(l).view(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.Prefix = []byte(prefixLog)
		opts.PrefetchSize = min(limit, opts.PrefetchSize)
		it, done := iterate(txn, opts)
		defer done()
		for it.Seek(logKey(after + 1)); it.Valid() && len(out) < limit; it.Next() {
			item := it.Item()
			seq, err := seqOfLogKey(item.Key())
			if err != nil {
				return err
			}
			var e event.Event
			if err := item.Value(func(v []byte) error {
				e, err = decodeEvent(seq, v)
				return err
			}); err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read log after %d: %w", after, err)
	}
	return out, nil
}

// Get implements Log.
func (l *badgerLog) Get(ctx context.Context, id string) (event.Event, error) {
	if err := ctx.Err(); err != nil {
		return event.Event{}, err
	}
	seq, err := event.ParseID(id)
	if err != nil {
		return event.Event{}, fmt.Errorf("get event: %w (%w)", ErrNotFound, err)
	}
	var e event.Event
	err = (*Badger)(l).view(func(txn *badger.Txn) error {
		item, err := txn.Get(logKey(seq))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			e, err = decodeEvent(seq, v)
			return err
		})
	})
	if err != nil {
		return event.Event{}, fmt.Errorf("get event %s: %w", id, err)
	}
	return e, nil
}

// LastSeq implements Log.
func (l *badgerLog) LastSeq() uint64 { return l.commit.lastSeq.Load() }

// Notify implements Log. The channel is shared: with several readers, each
// signal wakes one of them.
func (l *badgerLog) Notify() <-chan struct{} { return l.commit.notify }

// recoverLastSeq finds the newest log key, where sequences resume.
func (b *Badger) recoverLastSeq() (uint64, error) {
	var seq uint64
	err := b.db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Reverse = true
		opts.Prefix = []byte(prefixLog)
		it, done := iterate(txn, opts)
		defer done()
		it.Seek(logKey(^uint64(0)))
		if !it.Valid() {
			return nil
		}
		var err error
		seq, err = seqOfLogKey(it.Item().Key())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("recover log sequence: %w", err)
	}
	return seq, nil
}
