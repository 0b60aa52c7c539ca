package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
)

// cursorKey is the KV key of the last log sequence the dispatcher handled.
const cursorKey = "workflow/dispatch-cursor"

// Resolver finds the executor for a task's `uses:` value: a builtin task ID
// or `<connection>.<action>`.
type Resolver interface {
	Resolve(uses string) (task.Executor, error)
}

// Options configures an Engine.
type Options struct {
	Store     store.Store
	Workflows []*config.Workflow
	Resolver  Resolver
	Logger    *slog.Logger
	// Workers is how many runs execute at once (default 8).
	Workers int
	// Retry is the default retry policy; a task's own policy overrides it.
	Retry config.RetryPolicy
	// TaskTimeout bounds one task attempt when the task sets none (default 60s).
	TaskTimeout time.Duration
	// Observer, when set, is told about run and task outcomes (metrics).
	Observer Observer
	// Node names this node on the tasks it runs (TaskRun.Node).
	Node string
	// Leases, when set, makes the dispatcher run only while this node
	// holds the lease "dispatch" (nodes sharing a store); nil: it always
	// runs, as on a single node.
	Leases *lease.Leaser
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// ConfigVersion is the version of the configuration Workflows come
	// from; every run records the version it was created from (Replace
	// installs later ones).
	ConfigVersion uint64
}

// Observer receives run and task outcomes, e.g. to export metrics.
type Observer interface {
	RunFinished(workflow, status string)
	TaskFinished(workflow, task, status string, d time.Duration)
	Dispatched(lastSeq uint64)
}

// Engine dispatches events to workflows and executes runs.
type Engine struct {
	opts Options
	log  *slog.Logger
	// defs holds the workflow definitions by configuration version; see
	// defs.go.
	defs defsState

	queue    chan *store.Run
	wg       sync.WaitGroup
	stop     context.CancelFunc
	runCtx   context.Context
	inflight sync.Map // run ID -> struct{}: queued or executing in this process

	retryMu     sync.Mutex
	retryWanted map[string]bool // run ID -> a retry came due while a worker held it
	// beforeRelease, set only by tests, widens the window between a worker
	// finishing an attempt and letting go of the run.
	beforeRelease func()

	mu     sync.Mutex
	timers map[string]*time.Timer
	closed bool

	cursorMu  sync.Mutex
	cursor    uint64
	cursorRaw []byte // the stored cursor value the next write expects (nil: absent)

	// rq, when the store is shared, hands queued runs to one node at a
	// time (queue.go); nil: runs queue in memory (queue, timers).
	rq store.RunQueue
}

type compiled struct {
	wf      *config.Workflow
	version uint64
	// res resolves the tasks' uses: for this version of the definitions
	// (builtin tasks are built with the configuration they belong to).
	res Resolver
}

// New builds an engine; Start begins dispatching.
func New(o Options) (*Engine, error) {
	if o.Store == nil || o.Resolver == nil {
		return nil, errors.New("workflow.New: Store and Resolver are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Retry.MaxAttempts <= 0 {
		o.Retry.MaxAttempts = 5
	}
	if o.Retry.InitialInterval <= 0 {
		o.Retry.InitialInterval = time.Second
	}
	if o.Retry.MaxInterval <= 0 {
		o.Retry.MaxInterval = 5 * time.Minute
	}
	if o.TaskTimeout <= 0 {
		o.TaskTimeout = 60 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	e := &Engine{
		opts:        o,
		log:         o.Logger,
		timers:      map[string]*time.Timer{},
		retryWanted: map[string]bool{},
	}
	for _, wf := range o.Workflows {
		for _, t := range wf.Tasks {
			if _, err := o.Resolver.Resolve(t.Uses); err != nil {
				return nil, fmt.Errorf("workflow %s: task %s: %w", wf.Name, t.Name, err)
			}
		}
	}
	e.defs.init(newDefs(o.ConfigVersion, o.Workflows, o.Resolver))
	return e, nil
}

// Workflow returns the named workflow's config in the current version.
func (e *Engine) Workflow(name string) (*config.Workflow, bool) {
	c, ok := e.defs.current().byName[name]
	if !ok {
		return nil, false
	}
	return c.wf, true
}

// Start recovers unfinished runs and starts the dispatcher and workers. They
// stop when Close is called.
func (e *Engine) Start(ctx context.Context) error {
	if err := e.reloadCursor(ctx); err != nil {
		return err
	}
	if q, ok := store.AsRunQueue(e.opts.Store); ok {
		e.rq = q
	}
	e.runCtx, e.stop = context.WithCancel(context.WithoutCancel(ctx))
	if e.rq != nil {
		// Runs come from the shared queue, each to one node, unfinished
		// ones included (a dead node's after its claim times out).
		for i := 0; i < e.opts.Workers; i++ {
			e.wg.Add(1)
			go e.queueWorker()
		}
		e.wg.Add(1)
		go e.dispatchLoop()
		return nil
	}
	e.queue = make(chan *store.Run, 4*e.opts.Workers+1024)
	for i := 0; i < e.opts.Workers; i++ {
		e.wg.Add(1)
		go e.worker()
	}
	unfinished, err := e.opts.Store.Runs().Unfinished(ctx)
	if err != nil {
		e.Close()
		return fmt.Errorf("recover unfinished runs: %w", err)
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for _, r := range unfinished {
			e.defs.track(r.ConfigVersion)
			if r.Status == store.StatusRetrying && r.NextAt.After(e.opts.Now()) {
				e.scheduleRetry(r.ID, r.NextAt)
				continue
			}
			e.enqueue(r)
		}
		if len(unfinished) > 0 {
			e.log.Info("resumed unfinished runs", "count", len(unfinished))
		}
	}()
	e.wg.Add(1)
	go e.dispatchLoop()
	return nil
}

// Close stops dispatching, lets running tasks finish their current attempt,
// and returns when every goroutine has stopped. Runs still queued stay queued
// in the store and resume at the next Start.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	for id, t := range e.timers {
		t.Stop()
		delete(e.timers, id)
	}
	e.mu.Unlock()
	if e.stop != nil {
		e.stop()
	}
	e.wg.Wait()
}

// Lag is how many logged events the dispatcher has not yet handled.
func (e *Engine) Lag() uint64 {
	e.cursorMu.Lock()
	defer e.cursorMu.Unlock()
	last := e.opts.Store.Log().LastSeq()
	if last < e.cursor {
		return 0
	}
	return last - e.cursor
}

// reloadCursor reads the dispatcher's cursor from the store: at start, and
// when another node may have moved it.
func (e *Engine) reloadCursor(ctx context.Context) error {
	v, err := e.opts.Store.KV().Get(ctx, cursorKey)
	if errors.Is(err, store.ErrNotFound) {
		v, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("load dispatch cursor: %w", err)
	}
	var seq uint64
	if v != nil {
		if _, err := fmt.Sscanf(string(v), "%d", &seq); err != nil {
			return fmt.Errorf("load dispatch cursor %q: %w", v, err)
		}
	}
	e.cursorMu.Lock()
	e.cursor, e.cursorRaw = seq, v
	e.cursorMu.Unlock()
	return nil
}

// createRuns stores new runs with the KV writes, queueing those queued in
// the shared run queue when there is one.
func (e *Engine) createRuns(ctx context.Context, runs []*store.Run, kv []store.KVWrite) error {
	if e.rq != nil {
		return e.rq.CreateQueued(ctx, runs, kv)
	}
	return e.opts.Store.Runs().Create(ctx, runs, kv)
}

func newRunID(now time.Time) string {
	return "run_" + strings.ToLower(ulid.MustNew(ulid.Timestamp(now), ulid.DefaultEntropy()).String())
}

// decodeEvent parses the payload once for filter, fields and templates.
func decodeEvent(ev *event.Event) (any, error) {
	doc, err := mapping.Decode(ev.Payload)
	if err != nil {
		return nil, fmt.Errorf("decode event %s payload: %w", ev.ID, err)
	}
	return doc, nil
}

// newRun builds the run for one event and workflow, or nil when the filter
// does not match. A field mapping error still creates the run, failed with the
// error, so the operator sees it in the run history.
func (e *Engine) newRun(c *compiled, ev *event.Event, doc any, now time.Time) (*store.Run, bool) {
	wf := c.wf
	if wf.Compiled.Filter != nil && !wf.Compiled.Filter.Match(doc) {
		return nil, false
	}
	r := &store.Run{
		ID:            newRunID(now),
		ConfigVersion: c.version,
		Workflow:      wf.Name,
		Status:        store.StatusQueued,
		Input:         json.RawMessage(ev.Payload),
		CreatedAt:     now,
		UpdatedAt:     now,
		Tasks:         make([]store.TaskRun, len(wf.Tasks)),
		EventID:       ev.ID,
		Connection:    ev.Connection,
	}
	for i, t := range wf.Tasks {
		r.Tasks[i] = store.TaskRun{Name: t.Name, Uses: t.Uses, Status: store.StatusQueued}
	}
	if wf.Compiled.Fields != nil {
		fields, err := wf.Compiled.Fields.Apply(doc)
		if err != nil {
			r.Status = store.StatusFailed
			r.Error = "fields: " + err.Error()
			r.FinishedAt = now
			return r, true
		}
		r.Fields = fields
	}
	return r, true
}
