package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// Observer sees every record a fetch appends, and fetched metadata; the data
// overview (stats.Recorder) implements it.
type Observer interface {
	Observe(connection, entity string, payload []byte, at time.Time)
	SetMetadata(connection string, md *pluginsdk.MetadataResult, at time.Time)
}

// Options configures a Runner.
type Options struct {
	Store store.Store
	// Lookup finds a configured connection by name (connector.Manager.Get).
	Lookup func(name string) (*connector.Conn, bool)
	// Observer, when set, is told about each appended record.
	Observer Observer
	// JobDone, when set, is told about every job that ended, completed or
	// failed (alerts). It must not block: jobs end on its goroutine.
	JobDone func(Job)
	Logger  *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// ProgressInterval is the least time between two saves of a running
	// job's record. Default 500ms.
	ProgressInterval time.Duration
	// BatchLimit is the batch size hint given to Fetch. Default 1000.
	BatchLimit int
	// MaxWriteEvents and MaxWriteBytes bound one store write; a larger
	// batch is written in chunks (see doc.go). Defaults 5000 and 4 MiB.
	MaxWriteEvents int
	MaxWriteBytes  int
	// Leases lets one node at a time run a connection's job, when several
	// share the store (lease.go). Default: a Leaser on Store's KV.
	Leases *lease.Leaser
}

// RunOptions says what one job does.
type RunOptions struct {
	// Entities to fetch; empty: every entity of the connector's Spec, or the
	// connector's default when it lists none.
	Entities []string
	// MetadataOnly fetches entities and fields, no records.
	MetadataOnly bool
	// Trigger is TriggerManual (default) or TriggerSchedule.
	Trigger string
}

// ErrBusy is returned when a job of the connection is already running.
type ErrBusy struct{ Job Job }

func (e *ErrBusy) Error() string {
	return fmt.Sprintf("connection %s: fetch job %s is already running", e.Job.Connection, e.Job.ID)
}

// ErrNotFetchable is returned for a connection whose connector cannot do
// what was asked (fetch, or metadata).
var ErrNotFetchable = errors.New("connector does not support this")

// Runner runs fetch jobs.
type Runner struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	running map[string]*jobState // by connection
	closed  bool
	base    context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// jobState is a running job; mu guards job.
type jobState struct {
	mu    sync.Mutex
	job   Job
	saved time.Time
	lease *lease.Lease // the connection's fetch lease, held while it runs
}

func (s *jobState) snapshot() Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.job
}

// New returns a runner and marks jobs a crash left running as failed.
func New(ctx context.Context, o Options) (*Runner, error) {
	if o.Store == nil {
		return nil, errors.New("fetch: no store")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = 500 * time.Millisecond
	}
	if o.BatchLimit <= 0 {
		o.BatchLimit = 1000
	}
	if o.MaxWriteEvents <= 0 {
		o.MaxWriteEvents = 5000
	}
	if o.MaxWriteBytes <= 0 {
		o.MaxWriteBytes = 4 << 20
	}
	if o.Leases == nil {
		o.Leases = lease.New(lease.Options{KV: o.Store.KV(), Logger: o.Logger})
	}
	if err := recoverJobs(ctx, o.Store.KV(), store.IsSingleProcess(o.Store), o.Now()); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	r := &Runner{o: o, log: o.Logger, running: map[string]*jobState{}}
	r.base, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// Close cancels running background jobs and waits for them.
func (r *Runner) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	r.wg.Wait()
	return nil
}

// Lookup finds a configured connection (fetchable or not: the API checks
// names with it before saying what a connection cannot do).
func (r *Runner) Lookup(name string) (*connector.Conn, error) {
	if r.o.Lookup == nil {
		return nil, fmt.Errorf("connection %q: %w", name, store.ErrNotFound)
	}
	c, ok := r.o.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("connection %q is not configured: %w", name, store.ErrNotFound)
	}
	return c, nil
}

// check reports whether conn can do what opts asks.
func check(conn *connector.Conn, opts RunOptions) error {
	if opts.MetadataOnly {
		if _, ok := conn.Connector.(pluginsdk.MetadataProvider); !ok || !conn.Spec.HasRole(pluginsdk.RoleMetadata) {
			return fmt.Errorf("connection %s (connector %s) lists no metadata: %w", conn.Name(), conn.Spec.Name, ErrNotFetchable)
		}
		return nil
	}
	if _, ok := conn.Connector.(pluginsdk.Fetcher); !ok || !conn.Spec.HasRole(pluginsdk.RoleFetch) {
		return fmt.Errorf("connection %s (connector %s) does not fetch: %w", conn.Name(), conn.Spec.Name, ErrNotFetchable)
	}
	return nil
}

// begin registers a new job of conn, or fails with ErrBusy; jobCtx is
// what the job will run in (its lease's context derives from it).
func (r *Runner) begin(ctx, jobCtx context.Context, conn *connector.Conn, opts RunOptions) (*jobState, error) {
	if err := check(conn, opts); err != nil {
		return nil, err
	}
	if opts.Trigger == "" {
		opts.Trigger = TriggerManual
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errors.New("fetch runner is closed")
	}
	if cur, ok := r.running[conn.Name()]; ok {
		r.mu.Unlock()
		return nil, &ErrBusy{Job: cur.snapshot()}
	}
	st := &jobState{job: Job{
		ID: ulid.Make().String(), Connection: conn.Name(), Trigger: opts.Trigger,
		MetadataOnly: opts.MetadataOnly, Status: StatusRunning, Started: r.o.Now(),
	}}
	r.running[conn.Name()] = st
	r.mu.Unlock()
	if err := r.takeLease(ctx, jobCtx, st); err != nil {
		r.end(st)
		return nil, err
	}
	st.job.LeaseToken = st.lease.Token()
	if err := saveJob(ctx, r.o.Store.KV(), &st.job); err != nil {
		r.end(st)
		r.releaseLease(st)
		return nil, err
	}
	st.saved = st.job.Started
	return st, nil
}

// finish publishes the final record and frees the connection's slot in one
// step under r.mu, so no reader sees the job done while a new Start would
// still get ErrBusy.
func (r *Runner) finish(st *jobState, final Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st.mu.Lock()
	st.job = final
	st.mu.Unlock()
	if r.running[st.job.Connection] == st {
		delete(r.running, st.job.Connection)
	}
}

func (r *Runner) end(st *jobState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running[st.job.Connection] == st {
		delete(r.running, st.job.Connection)
	}
}

// Run runs one job of conn to its end and returns its final record. The
// error is the job's error (also recorded on the job) or ErrBusy.
func (r *Runner) Run(ctx context.Context, conn *connector.Conn, opts RunOptions) (Job, error) {
	st, err := r.begin(ctx, ctx, conn, opts)
	if err != nil {
		return Job{}, err
	}
	return r.execute(ctx, conn, opts, st)
}

// Start starts a job of the named connection in the background and returns
// its initial record; the job runs until done or Close (not until ctx ends:
// ctx only covers the start).
func (r *Runner) Start(ctx context.Context, name string, opts RunOptions) (Job, error) {
	conn, err := r.Lookup(name)
	if err != nil {
		return Job{}, err
	}
	st, err := r.begin(ctx, r.base, conn, opts)
	if err != nil {
		return Job{}, err
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		_, _ = r.execute(r.base, conn, opts, st)
	}()
	return st.snapshot(), nil
}

// FetchScheduled implements schedule.ConnectionFetcher.
func (r *Runner) FetchScheduled(ctx context.Context, name string, _ time.Time) error {
	conn, err := r.Lookup(name)
	if err != nil {
		return err
	}
	_, err = r.Run(ctx, conn, RunOptions{Trigger: TriggerSchedule})
	return err
}

// Job returns a job: the live record while it runs, else the stored one.
func (r *Runner) Job(ctx context.Context, connection, id string) (Job, error) {
	r.mu.Lock()
	cur, ok := r.running[connection]
	r.mu.Unlock()
	if ok {
		if j := cur.snapshot(); j.ID == id {
			return j, nil
		}
	}
	j, err := loadJob(ctx, r.o.Store.KV(), connection, id)
	if err != nil {
		return Job{}, fmt.Errorf("fetch job %s of %s: %w", id, connection, err)
	}
	return *j, nil
}

// Jobs lists a connection's jobs, newest first.
func (r *Runner) Jobs(ctx context.Context, connection string, limit int) ([]Job, error) {
	stored, err := listJobs(ctx, r.o.Store.KV(), connection)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	cur := r.running[connection]
	r.mu.Unlock()
	out := make([]Job, 0, len(stored))
	for i := len(stored) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		j := *stored[i]
		if cur != nil && j.ID == cur.job.ID {
			j = cur.snapshot()
		}
		out = append(out, j)
	}
	return out, nil
}

// Running returns the running job of connection, if any.
func (r *Runner) Running(connection string) (Job, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.running[connection]; ok {
		return cur.snapshot(), true
	}
	return Job{}, false
}

func (r *Runner) execute(ctx context.Context, conn *connector.Conn, opts RunOptions, st *jobState) (Job, error) {
	defer r.end(st) // frees the slot if the connector panics; a no-op after finish
	defer r.releaseLease(st)
	// The job stops when its lease is lost: another node may run it next.
	ctx = st.lease.Context()
	log := r.log.With("connection", conn.Name(), "job", st.job.ID)
	log.Info("fetch job started", "trigger", st.job.Trigger, "metadata_only", opts.MetadataOnly)
	var err error
	if opts.MetadataOnly {
		err = r.metadata(ctx, conn, st)
	} else {
		err = r.fetchAll(ctx, conn, opts, st)
	}
	now := r.o.Now()
	job := st.snapshot()
	job.Finished = now
	job.Rate = rate(job.Records, now.Sub(job.Started))
	job.Status = StatusCompleted
	if err != nil {
		job.Status = StatusFailed
		job.Error = err.Error()
	}
	// The final record is saved even when ctx was cancelled (shutdown), and
	// before the job is seen as done: whoever sees it done may start the
	// next job at once, so the slot must be free by then (finish).
	sctx := context.WithoutCancel(ctx)
	if serr := saveJob(sctx, r.o.Store.KV(), &job); serr != nil {
		log.Error("fetch job record not saved", "err", serr)
	}
	r.releaseLease(st)
	r.finish(st, job)
	if r.o.JobDone != nil {
		r.o.JobDone(job)
	}
	if perr := pruneJobs(sctx, r.o.Store.KV(), conn.Name()); perr != nil {
		log.Warn("old fetch job records not pruned", "err", perr)
	}
	if err != nil {
		log.Error("fetch job failed", "records", job.Records, "err", err)
	} else {
		log.Info("fetch job completed", "records", job.Records, "bytes", job.Bytes, "rate", job.Rate)
	}
	return job, err
}

func rate(records int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(records) / d.Seconds()
}

func (r *Runner) fetchAll(ctx context.Context, conn *connector.Conn, opts RunOptions, st *jobState) error {
	f := conn.Connector.(pluginsdk.Fetcher) // check verified it
	entities := opts.Entities
	if len(entities) == 0 {
		for _, e := range conn.Spec.Entities {
			entities = append(entities, e.Name)
		}
	}
	if len(entities) == 0 {
		entities = []string{""}
	}
	for _, entity := range entities {
		st.mu.Lock()
		st.job.Entity = entity
		st.mu.Unlock()
		if err := r.fetchEntity(ctx, conn, f, entity, st); err != nil {
			return err
		}
	}
	return nil
}

func (r *Runner) fetchEntity(ctx context.Context, conn *connector.Conn, f pluginsdk.Fetcher, entity string, st *jobState) error {
	key := CursorKey(conn.Name(), entity)
	cursor, err := r.o.Store.KV().Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		cursor, err = nil, nil // absent: the guard below expects it absent
	case err == nil && cursor == nil:
		cursor = []byte{} // present and empty, which a nil Expect would not match
	}
	if err != nil {
		return fmt.Errorf("read cursor of %s: %w", label(entity), err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("fetch %s: interrupted: %w", label(entity), err)
		}
		res, err := f.Fetch(ctx, &pluginsdk.FetchRequest{Entity: entity, Cursor: cursor, Limit: r.o.BatchLimit})
		if err != nil {
			return fmt.Errorf("fetch %s: %w", label(entity), err)
		}
		if res == nil {
			res = &pluginsdk.FetchResult{}
		}
		if err := r.commit(ctx, conn, entity, key, cursor, res, st); err != nil {
			return fmt.Errorf("store batch of %s: %w", label(entity), err)
		}
		progressed := len(res.Events) > 0 || !bytes.Equal(res.Cursor, cursor)
		cursor = res.Cursor
		if !res.More {
			return nil
		}
		if !progressed {
			return fmt.Errorf("fetch %s: connector %s returned more=true without records or a new cursor", label(entity), conn.Spec.Name)
		}
	}
}

func label(entity string) string {
	if entity == "" {
		return "records"
	}
	return "entity " + entity
}

// commit writes one batch's events and its cursor in one store write
// (chunked only when the batch is larger than a write may be).
func (r *Runner) commit(ctx context.Context, conn *connector.Conn, entity, key string, old []byte, res *pluginsdk.FetchResult, st *jobState) error {
	if len(res.Events) == 0 && bytes.Equal(old, res.Cursor) {
		r.progress(ctx, st, 0, 0, 0)
		return nil
	}
	reqs := make([]store.AppendRequest, len(res.Events))
	var size int64
	window := conn.DedupWindow()
	for i, ev := range res.Events {
		typ := ev.Type
		if typ == "" {
			typ = entity
		}
		reqs[i] = store.AppendRequest{
			Connection: conn.Name(), Type: typ, DedupKey: ev.DedupKey, DedupWindow: window,
			OccurredAt: ev.Time, Payload: ev.Payload,
		}
		size += int64(len(ev.Payload))
	}
	// A nil cursor deletes the key: the connector asked to start over. The
	// write is guarded by the cursor this job read: a node that lost the
	// fetch lease without noticing finds the cursor moved by the new
	// holder and commits nothing (store.ErrConflict) instead of moving it
	// back.
	cur := []store.KVWrite{{Key: key, Value: res.Cursor, Guard: true, Expect: old}}
	var results []store.AppendResult
	for start := 0; ; {
		end := r.chunkEnd(reqs, start)
		var (
			out []store.AppendResult
			err error
		)
		if end == len(reqs) {
			out, err = r.o.Store.Log().AppendWithKV(ctx, reqs[start:end], cur)
		} else {
			out, err = r.o.Store.Log().Append(ctx, reqs[start:end])
		}
		if errors.Is(err, store.ErrConflict) {
			return fmt.Errorf("the cursor was moved by another node (this node lost the fetch lease): %w", err)
		}
		if err != nil {
			return err
		}
		results = append(results, out...)
		if end == len(reqs) {
			break
		}
		start = end
	}
	var records, dups int64
	at := r.o.Now()
	for i, res := range results {
		if res.Duplicate {
			dups++
			continue
		}
		records++
		if r.o.Observer != nil {
			r.o.Observer.Observe(conn.Name(), reqs[i].Type, reqs[i].Payload, at)
		}
	}
	r.progress(ctx, st, records, dups, size)
	return nil
}

// chunkEnd returns the end of the chunk of reqs starting at start.
func (r *Runner) chunkEnd(reqs []store.AppendRequest, start int) int {
	size := 0
	for i := start; i < len(reqs); i++ {
		size += len(reqs[i].Payload)
		if i > start && (i-start >= r.o.MaxWriteEvents || size > r.o.MaxWriteBytes) {
			return i
		}
	}
	return len(reqs)
}

// progress counts a committed batch and saves the job record when the last
// save is older than ProgressInterval.
func (r *Runner) progress(ctx context.Context, st *jobState, records, dups, size int64) {
	now := r.o.Now()
	st.mu.Lock()
	st.job.Batches++
	st.job.Records += records
	st.job.Duplicates += dups
	st.job.Bytes += size
	st.job.Rate = rate(st.job.Records, now.Sub(st.job.Started))
	due := now.Sub(st.saved) >= r.o.ProgressInterval
	job := st.job
	if due {
		st.saved = now
	}
	st.mu.Unlock()
	if due {
		if err := saveJob(ctx, r.o.Store.KV(), &job); err != nil {
			r.log.Warn("fetch job progress not saved", "connection", job.Connection, "job", job.ID, "err", err)
		}
	}
}
