package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

type jsRuns Store

const (
	defaultListLimit = 50
	maxListLimit     = 500
	// sinceSlack: see the Badger store's List; run IDs are ULIDs, newest
	// last, and CreatedAt may trail the ID's time a little.
	sinceSlack = time.Minute
)

func (s *Store) runSubj(id string) string { return s.subj("run", token(id)) }

func runMsg(subj string, r *store.Run) (*nats.Msg, error) {
	switch {
	case r == nil:
		return nil, errors.New("nil run")
	case r.ID == "" || len(r.ID) > maxKeyLen:
		return nil, fmt.Errorf("run ID %q: want 1 to %d bytes", r.ID, maxKeyLen)
	case r.Status == "":
		return nil, fmt.Errorf("run %s: empty status", r.ID)
	}
	js, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	m := nats.NewMsg(subj)
	m.Data = js
	// One message per run: an update replaces the run. The headers carry
	// what the index needs, so other nodes follow runs reading headers only.
	m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	m.Header.Set(hdrStatus, r.Status)
	m.Header.Set(hdrWorkflow, r.Workflow)
	if r.DeadLetter {
		m.Header.Set(hdrDead, "1")
	}
	return m, nil
}

// Create implements store.Runs: the runs and the KV writes are one atomic
// batch.
func (x *jsRuns) Create(ctx context.Context, runs []*store.Run, kv []store.KVWrite) error {
	return x.create(ctx, runs, nil, kv)
}

// create writes the runs, the extra messages (work messages of queued runs)
// and the KV writes as one atomic batch.
func (x *jsRuns) create(ctx context.Context, runs []*store.Run, extra []*nats.Msg, kv []store.KVWrite) error {
	s := (*Store)(x)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("create runs: %w", err)
	}
	defer cancel()
	msgs := make([]*nats.Msg, 0, len(runs)+len(kv))
	for _, r := range runs {
		if r == nil {
			return errors.New("create runs: nil run")
		}
		m, err := runMsg(s.runSubj(r.ID), r)
		if err != nil {
			return fmt.Errorf("create runs: %w", err)
		}
		msgs = append(msgs, m)
	}
	msgs = append(msgs, extra...)
	kvMsgs, err := s.kvMsgs(kv)
	if err != nil {
		return fmt.Errorf("create runs: %w", err)
	}
	msgs = append(msgs, kvMsgs...)
	if len(msgs) == 0 {
		return nil
	}
	if len(msgs) > maxBatch {
		return fmt.Errorf("create %d runs: %d messages, more than the %d of one atomic batch", len(runs), len(msgs), maxBatch)
	}
	first, err := s.publishGuarded(ctx, msgs, kv, kvMsgs)
	if err != nil {
		return fmt.Errorf("create %d runs: %w", len(runs), err)
	}
	for i, r := range runs {
		s.runs.apply(r.ID, msgs[i].Header, first+uint64(i))
	}
	return nil
}

// Update implements store.Runs. It returns ErrNotFound for an unknown run.
func (x *jsRuns) Update(ctx context.Context, r *store.Run) error {
	s := (*Store)(x)
	if r == nil {
		return errors.New("update run: nil run")
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("update run %s: %w", r.ID, err)
	}
	defer cancel()
	subj := s.runSubj(r.ID)
	m, err := runMsg(subj, r)
	if err != nil {
		return fmt.Errorf("update run: %w", err)
	}
	if _, err := s.lastRunMsg(ctx, r.ID, 0); err != nil {
		return fmt.Errorf("update run %s: %w", r.ID, err)
	}
	seq, err := s.publish(ctx, []*nats.Msg{m})
	if err != nil {
		return fmt.Errorf("update run %s: %w", r.ID, err)
	}
	s.runs.apply(r.ID, m.Header, seq)
	return nil
}

// Get implements store.Runs.
func (x *jsRuns) Get(ctx context.Context, id string) (*store.Run, error) {
	s := (*Store)(x)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	defer cancel()
	r, err := s.getRun(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", id, err)
	}
	return r, nil
}

func (s *Store) getRun(ctx context.Context, id string) (*store.Run, error) {
	return s.getRunSeen(ctx, id, 0)
}

// getRunSeen reads run id no older than stream sequence seen: a write at
// or after the run's last one that this node has seen (0: none).
func (s *Store) getRunSeen(ctx context.Context, id string, seen uint64) (*store.Run, error) {
	if id == "" || len(id) > maxKeyLen {
		return nil, store.ErrNotFound
	}
	m, err := s.lastRunMsg(ctx, id, seen)
	if err != nil {
		return nil, err
	}
	r := new(store.Run)
	if err := json.Unmarshal(m.Data, r); err != nil {
		return nil, fmt.Errorf("corrupt run record: %w", err)
	}
	return r, nil
}

// lastRunMsg returns run id's record from the stream leader, or
// store.ErrNotFound when the leader has none although it has applied
// every write this node knows of for the run (seen, and the index's
// sequence for it). A run this node has seen (through its tail, or a work
// message handed out by a consumer on another replica) can be ahead of
// the leader: every replica applies a committed write on its own, and a
// follower may do so first. The leader's answer is taken as "no run"
// only once it is past those writes, so a lagging leader never makes a
// run look gone.
func (s *Store) lastRunMsg(ctx context.Context, id string, seen uint64) (*jetstream.RawStreamMsg, error) {
	subj := s.runSubj(id)
	m, err := s.getLast(ctx, subj)
	if err != nil || m != nil {
		return m, err
	}
	if e, ok := s.runs.get(id); ok {
		seen = max(seen, e.seq)
	}
	if seen > 0 {
		if err := s.leaderPast(ctx, seen); err != nil {
			return nil, err
		}
		if m, err = s.getLast(ctx, subj); err != nil || m != nil {
			return m, err
		}
	}
	s.runs.remove(id) // expired (a purge reaches no tail)
	return nil, store.ErrNotFound
}

// errLeaderBehind: the stream leader has not applied a write this node
// has seen yet.
var errLeaderBehind = errors.New("the stream leader has not applied the write yet")

// leaderPast waits until the stream's leader has applied sequence seq,
// polling its stream info (only the leader answers it while there is one)
// until ctx ends.
func (s *Store) leaderPast(ctx context.Context, seq uint64) error {
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		info, err := s.stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("stream info: %w", err)
		}
		// Without a leader a replica answers with its own state.
		led := info.Cluster == nil || info.Cluster.Leader != ""
		if led && info.State.LastSeq >= seq {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sequence %d: %w", seq, errLeaderBehind)
		case <-time.After(wait):
		}
	}
}

func match(f store.RunFilter, r *store.Run) bool {
	return (f.Status == "" || r.Status == f.Status) &&
		(f.Workflow == "" || r.Workflow == f.Workflow) &&
		(!f.DeadLetter || r.DeadLetter) &&
		(f.Since.IsZero() || !r.CreatedAt.Before(f.Since))
}

// List implements store.Runs, newest first. The in-memory index picks the
// candidates; each is then read from the stream and checked against the
// whole filter.
func (x *jsRuns) List(ctx context.Context, f store.RunFilter) ([]*store.Run, string, error) {
	s := (*Store)(x)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, "", fmt.Errorf("list runs: %w", err)
	}
	defer cancel()
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	ids := s.runs.ids(func(e runEntry) bool {
		return (f.Status == "" || e.status == f.Status) && (f.Workflow == "" || e.workflow == f.Workflow) && (!f.DeadLetter || e.dead)
	})
	slices.SortFunc(ids, func(a, b string) int { return strings.Compare(b, a) })
	var out []*store.Run
	for _, id := range ids {
		if f.After != "" && id >= f.After {
			continue
		}
		r, err := s.getRun(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("list runs: run %s: %w", id, err)
		}
		if !f.Since.IsZero() && r.CreatedAt.Before(f.Since.Add(-sinceSlack)) {
			break
		}
		if !match(f, r) {
			continue
		}
		if len(out) == limit {
			return out, out[limit-1].ID, nil
		}
		out = append(out, r)
	}
	return out, "", nil
}

// Unfinished implements store.Runs, oldest first.
func (x *jsRuns) Unfinished(ctx context.Context) ([]*store.Run, error) {
	s := (*Store)(x)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("unfinished runs: %w", err)
	}
	defer cancel()
	ids := s.runs.ids(func(e runEntry) bool { return unfinished(e.status) })
	slices.Sort(ids)
	var out []*store.Run
	for _, id := range ids {
		r, err := s.getRun(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("unfinished runs: run %s: %w", id, err)
		}
		if unfinished(r.Status) {
			out = append(out, r)
		}
	}
	return out, nil
}

func unfinished(status string) bool {
	return status == store.StatusQueued || status == store.StatusRunning || status == store.StatusRetrying
}

// Counts implements store.Runs from the index.
func (x *jsRuns) Counts(ctx context.Context) (map[string]int, error) {
	if (*Store)(x).isClosed() {
		return nil, store.ErrClosed
	}
	return x.runs.counts(), nil
}

// runIndex is what each node keeps in memory of every run: enough to pick
// the candidates of a List, Unfinished and Counts. It is loaded at Open
// from the last message of each run subject and kept current by this
// node's writes and a tail of every node's. A purge (retention) reaches no
// consumer: a node drops a purged run when it next reads it, which its own
// expirer's pass does for every expired run.
type runIndex struct {
	mu sync.Mutex
	m  map[string]runEntry
	n  map[string]int // by status
}

type runEntry struct {
	status, workflow string
	dead             bool
	seq              uint64
}

func newRunIndex() *runIndex {
	return &runIndex{m: map[string]runEntry{}, n: map[string]int{}}
}

// apply records a run message unless a newer one is known already.
func (x *runIndex) apply(id string, h nats.Header, seq uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	old, ok := x.m[id]
	if ok && old.seq >= seq {
		return
	}
	if ok {
		x.n[old.status]--
	}
	e := runEntry{status: h.Get(hdrStatus), workflow: h.Get(hdrWorkflow), dead: h.Get(hdrDead) != "", seq: seq}
	x.m[id] = e
	x.n[e.status]++
}

func (x *runIndex) get(id string) (runEntry, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.m[id]
	return e, ok
}

func (x *runIndex) remove(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.m[id]; ok {
		x.n[old.status]--
		delete(x.m, id)
	}
}

func (x *runIndex) ids(keep func(runEntry) bool) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	for id, e := range x.m {
		if keep(e) {
			out = append(out, id)
		}
	}
	return out
}

func (x *runIndex) entries() map[string]runEntry {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[string]runEntry, len(x.m))
	for id, e := range x.m {
		out[id] = e
	}
	return out
}

func (x *runIndex) counts() map[string]int {
	out := map[string]int{
		store.StatusQueued: 0, store.StatusRunning: 0, store.StatusCompleted: 0,
		store.StatusFailed: 0, store.StatusRetrying: 0, store.StatusSkipped: 0,
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	for st, n := range x.n {
		if n != 0 {
			out[st] = n
		}
	}
	return out
}

// startRunTail loads the index and follows run writes from every node. The
// tail starts at the stream's last sequence before the snapshot, so nothing
// falls between the two; what both deliver is applied once (by sequence).
func (s *Store) startRunTail(ctx context.Context) error {
	info, err := s.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("load runs: stream info: %w", err)
	}
	from := info.State.LastSeq + 1
	apply := func(m jetstream.Msg) error {
		meta, err := m.Metadata()
		if err != nil {
			return err
		}
		toks := strings.Split(m.Subject(), ".")
		if len(toks) != 3 {
			return nil
		}
		id, err := untoken(toks[2])
		if err != nil {
			return nil // not a run subject this version writes
		}
		s.runs.apply(id, m.Headers(), meta.Sequence.Stream)
		return nil
	}
	if err := s.lastPerSubject(ctx, s.subj("run", ">"), true, apply); err != nil {
		return fmt.Errorf("load runs: %w", err)
	}
	s.runTail, err = s.follow(ctx, "runs", s.subj("run", ">"), from, func(m jetstream.Msg, _ uint64) { _ = apply(m) })
	return err
}
