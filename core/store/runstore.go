package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

type badgerRuns Badger

// runHeader holds the fields the indexes are built from. It is stored in
// front of the run's JSON so that replacing a run (which must delete the old
// index entries) decodes a few bytes instead of the whole run.
type runHeader struct {
	status     string
	workflow   string
	deadLetter bool
}

// runCodecV1 marks the first version of the run record.
const runCodecV1 = 1

func encodeRun(r *Run) ([]byte, error) {
	js, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	v := make([]byte, 0, len(js)+len(r.Status)+len(r.Workflow)+8)
	v = append(v, runCodecV1)
	v = appendString(v, r.Status)
	v = appendString(v, r.Workflow)
	if r.DeadLetter {
		v = append(v, 1)
	} else {
		v = append(v, 0)
	}
	return append(v, js...), nil
}

// decodeRunHeader returns the header and the JSON that follows it.
func decodeRunHeader(v []byte) (runHeader, []byte, error) {
	d := decoder{b: v}
	if d.byte() != runCodecV1 {
		return runHeader{}, nil, errors.New("corrupt run record: unknown version")
	}
	h := runHeader{status: d.string(), workflow: d.string(), deadLetter: d.byte() == 1}
	if d.err {
		return runHeader{}, nil, errors.New("corrupt run record")
	}
	return h, d.b, nil
}

func decodeRun(v []byte) (*Run, error) {
	_, js, err := decodeRunHeader(v)
	if err != nil {
		return nil, err
	}
	r := new(Run)
	if err := json.Unmarshal(js, r); err != nil {
		return nil, fmt.Errorf("corrupt run record: %w", err)
	}
	return r, nil
}

func runKey(id string) []byte { return []byte(prefixRun + id) }

// indexKeys lists the index entries of a run. Every list query reads the
// run itself and checks it against the filter, so an entry whose prefix is
// ambiguous (a workflow or status name containing "/") cannot leak.
func indexKeys(id string, h runHeader) [][]byte {
	keys := [][]byte{
		[]byte(prefixIdxStatus + h.status + "/" + id),
		[]byte(prefixIdxWorkflow + h.workflow + "/" + id),
		[]byte(prefixIdxWfStatus + h.workflow + "/" + h.status + "/" + id),
	}
	if h.deadLetter {
		keys = append(keys, []byte(prefixIdxDead+id))
	}
	return keys
}

// runRec is a run ready to be written.
type runRec struct {
	id    string
	head  runHeader
	value []byte
}

func prepareRun(r *Run) (runRec, error) {
	switch {
	case r == nil:
		return runRec{}, errors.New("nil run")
	case r.ID == "":
		return runRec{}, errors.New("run without ID")
	case strings.Contains(r.ID, "/") || len(r.ID) > 1024:
		return runRec{}, fmt.Errorf("run ID %q: want at most 1024 bytes and no '/'", r.ID)
	case r.Status == "":
		return runRec{}, fmt.Errorf("run %s: empty status", r.ID)
	}
	v, err := encodeRun(r)
	if err != nil {
		return runRec{}, fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	return runRec{id: r.ID, head: runHeader{r.Status, r.Workflow, r.DeadLetter}, value: v}, nil
}

// runOp writes runs (replacing any with the same ID, indexes included) and
// KV writes. With mustExist (Update) a missing run fails the op.
type runOp struct {
	writeOp
	runs        []runRec
	kv          []kvEntry
	mustExist   bool
	count, size int64
}

func newRunOp(ctx context.Context, runs []runRec, kv []kvEntry, mustExist bool) *runOp {
	o := &runOp{writeOp: newWriteOp(ctx), runs: runs, kv: kv, mustExist: mustExist}
	for _, r := range runs {
		// The run, its new index entries and the deletes of the old ones.
		o.count += 1 + 2*4
		o.size += entryCost(len(prefixRun)+len(r.id), len(r.value)) +
			2*4*entryCost(len(prefixIdxWfStatus)+len(r.head.workflow)+len(r.head.status)+len(r.id)+2, 0)
	}
	for _, w := range kv {
		o.count++
		o.size += entryCost(len(w.key), len(w.value))
	}
	return o
}

func (o *runOp) cost() (int64, int64) { return o.count, o.size }

func (o *runOp) apply(b *batch) error {
	if err := checkGuards(b.txn, o.kv); err != nil {
		return cleanError{err}
	}
	for i, r := range o.runs {
		key := runKey(r.id)
		old, found, err := readRunHeader(b.txn, key)
		if err == nil && !found && o.mustExist {
			err = fmt.Errorf("run %s: %w", r.id, ErrNotFound)
		}
		if err != nil {
			if i == 0 {
				return cleanError{err}
			}
			return err
		}
		if found {
			for _, k := range indexKeys(r.id, old) {
				if err := b.txn.Delete(k); err != nil {
					return err
				}
			}
			b.countDelta(old.status, -1)
		}
		if err := b.txn.Set(key, r.value); err != nil {
			return err
		}
		for _, k := range indexKeys(r.id, r.head) {
			if err := b.txn.Set(k, nil); err != nil {
				return err
			}
		}
		b.countDelta(r.head.status, 1)
	}
	return applyKV(b.txn, o.kv)
}

func readRunHeader(txn *badger.Txn, key []byte) (runHeader, bool, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return runHeader{}, false, nil
	}
	if err != nil {
		return runHeader{}, false, err
	}
	var h runHeader
	err = item.Value(func(v []byte) error {
		h, _, err = decodeRunHeader(v)
		return err
	})
	if err != nil {
		return runHeader{}, false, fmt.Errorf("run %s: %w", key[len(prefixRun):], err)
	}
	return h, true, nil
}

// Create implements Runs. A run whose ID already exists is replaced, as by
// Update.
func (s *badgerRuns) Create(ctx context.Context, runs []*Run, kv []KVWrite) error {
	recs := make([]runRec, 0, len(runs))
	for _, r := range runs {
		rec, err := prepareRun(r)
		if err != nil {
			return fmt.Errorf("create runs: %w", err)
		}
		recs = append(recs, rec)
	}
	kvs, err := prepareKV(kv)
	if err != nil {
		return fmt.Errorf("create runs: %w", err)
	}
	if len(recs) == 0 && len(kvs) == 0 {
		return nil
	}
	o := newRunOp(ctx, recs, kvs, false)
	if err := s.commit.submit(ctx, o, o.done); err != nil {
		return fmt.Errorf("create %d runs: %w", len(runs), err)
	}
	return nil
}

// Update implements Runs. It returns ErrNotFound for an unknown run.
func (s *badgerRuns) Update(ctx context.Context, r *Run) error {
	rec, err := prepareRun(r)
	if err != nil {
		return fmt.Errorf("update run: %w", err)
	}
	o := newRunOp(ctx, []runRec{rec}, nil, true)
	if err := s.commit.submit(ctx, o, o.done); err != nil {
		return fmt.Errorf("update run %s: %w", r.ID, err)
	}
	return nil
}

// Get implements Runs.
func (s *badgerRuns) Get(ctx context.Context, id string) (*Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var r *Run
	err := (*Badger)(s).view(func(txn *badger.Txn) error {
		var err error
		r, err = getRun(txn, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	return r, nil
}

func getRun(txn *badger.Txn, id string) (*Run, error) {
	item, err := txn.Get(runKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var r *Run
	err = item.Value(func(v []byte) error {
		r, err = decodeRun(v)
		return err
	})
	return r, err
}

// Unfinished implements Runs. Runs come oldest first (by ID).
func (s *badgerRuns) Unfinished(ctx context.Context) ([]*Run, error) {
	var out []*Run
	err := (*Badger)(s).view(func(txn *badger.Txn) error {
		for _, status := range []string{StatusQueued, StatusRunning, StatusRetrying} {
			prefix := []byte(prefixIdxStatus + status + "/")
			opts := badger.DefaultIteratorOptions
			opts.PrefetchValues = false
			opts.Prefix = prefix
			it, done := iterate(txn, opts)
			for it.Seek(prefix); it.Valid(); it.Next() {
				if err := ctx.Err(); err != nil {
					done()
					return err
				}
				id := string(it.Item().Key()[len(prefix):])
				r, err := getRun(txn, id)
				if err != nil {
					done()
					return fmt.Errorf("run %s: %w", id, err)
				}
				if r.Status == status {
					out = append(out, r)
				}
			}
			done()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("unfinished runs: %w", err)
	}
	slices.SortFunc(out, func(a, b *Run) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Counts implements Runs. Every known status is present, zero or not.
func (s *badgerRuns) Counts(ctx context.Context) (map[string]int, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.counts.snapshot(), nil
}

// runCounts is the number of runs by status, kept in memory: counted from
// the status index at Open and moved by each committed batch. A stored
// counter would make every run write read-modify-write one hot key.
type runCounts struct {
	mu sync.Mutex
	m  map[string]int
}

func loadRunCounts(db *badger.DB) (*runCounts, error) {
	c := &runCounts{}
	if err := c.reload(db); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *runCounts) reload(db *badger.DB) error {
	m := make(map[string]int)
	err := db.View(func(txn *badger.Txn) error {
		opts := badger.DefaultIteratorOptions
		opts.PrefetchValues = false
		opts.Prefix = []byte(prefixIdxStatus)
		it, done := iterate(txn, opts)
		defer done()
		for it.Rewind(); it.Valid(); it.Next() {
			rest := string(it.Item().Key()[len(prefixIdxStatus):])
			if i := strings.LastIndexByte(rest, '/'); i >= 0 {
				m[rest[:i]]++
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("count runs: %w", err)
	}
	c.mu.Lock()
	c.m = m
	c.mu.Unlock()
	return nil
}

func (c *runCounts) add(delta map[string]int) {
	if len(delta) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for s, d := range delta {
		c.m[s] += d
		if c.m[s] == 0 {
			delete(c.m, s)
		}
	}
}

func (c *runCounts) snapshot() map[string]int {
	out := map[string]int{
		StatusQueued: 0, StatusRunning: 0, StatusCompleted: 0,
		StatusFailed: 0, StatusRetrying: 0, StatusSkipped: 0,
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for s, n := range c.m {
		out[s] = n
	}
	return out
}
