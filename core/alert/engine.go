package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
)

// Actions finds a connection's action (connector.Manager implements it).
type Actions interface {
	Action(connection, action string) (task.Executor, error)
}

// Options configures an Engine.
type Options struct {
	// KV keeps each alert's state and the recent notices.
	KV store.KV
	// Alerts are the configured alerts.
	Alerts []*config.Alert
	// Actions sends the notices.
	Actions Actions
	// Lag is the dispatcher's log lag, polled on every tick (log_lag).
	Lag    func() uint64
	Logger *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// Tick is how often every alert is re-evaluated. Default 1s.
	Tick time.Duration
	// QueueSize bounds the signals waiting for evaluation. Default 4096.
	QueueSize int
	// Recent is how many notices the API and console show. Default 100.
	Recent int
	// NotifyTimeout bounds one delivery attempt. Default 30s.
	NotifyTimeout time.Duration
	// RetryDelay is the wait before the first retry of a failed delivery
	// (doubled before the second). Default 1s.
	RetryDelay time.Duration
}

// Engine evaluates the alerts and sends their notices. Its signal methods
// never block; see the package doc.
type Engine struct {
	o       Options
	log     *slog.Logger
	signals chan signal
	// active is false while no alert is configured: signals are then not
	// even queued.
	active  atomic.Bool
	notices chan *Notice
	dropped atomic.Uint64
	metrics *metrics

	mu     sync.Mutex
	alerts map[string]*runtime
	recent []*Notice // newest last

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started bool
}

// New loads the alerts' stored state; Start begins evaluating.
func New(ctx context.Context, o Options) (*Engine, error) {
	if o.KV == nil || o.Actions == nil {
		return nil, errors.New("alert.New: KV and Actions are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Tick <= 0 {
		o.Tick = time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 4096
	}
	if o.Recent <= 0 {
		o.Recent = 100
	}
	if o.NotifyTimeout <= 0 {
		o.NotifyTimeout = 30 * time.Second
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = time.Second
	}
	e := &Engine{
		o: o, log: o.Logger,
		signals: make(chan signal, o.QueueSize),
		// Notices are few (at most a couple per alert per cooldown); the
		// buffer only has to outlast one slow delivery.
		notices: make(chan *Notice, 256),
		alerts:  map[string]*runtime{},
	}
	e.metrics = newMetrics(e)
	recent, err := loadRecent(ctx, o.KV)
	if err != nil {
		return nil, err
	}
	e.recent = recent
	if err := e.Replace(ctx, o.Alerts); err != nil {
		return nil, err
	}
	if err := e.pruneStates(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// pruneStates deletes the stored state of alerts no longer configured
// (removed while Junction was stopped).
func (e *Engine) pruneStates(ctx context.Context) error {
	pairs, err := e.o.KV.List(ctx, statePrefix, 0)
	if err != nil {
		return fmt.Errorf("list alert states: %w", err)
	}
	for _, p := range pairs {
		name, err := url.PathUnescape(strings.TrimPrefix(p.Key, statePrefix))
		if err != nil {
			continue
		}
		if _, ok := e.alerts[name]; !ok {
			if err := deleteState(ctx, e.o.KV, name); err != nil {
				return err
			}
		}
	}
	return nil
}

// Start runs the evaluation loop and the sender until Close.
func (e *Engine) Start(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.started {
		return
	}
	e.started = true
	ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	e.wg.Add(2)
	go func() { defer e.wg.Done(); e.loop(ctx) }()
	go func() { defer e.wg.Done(); e.send(ctx) }()
}

// Close stops the loop and the sender and saves every alert's state. A
// notice still queued is dropped (logged): it is in the recent list and
// the state, so nothing fires twice after the restart.
func (e *Engine) Close() error {
	e.mu.Lock()
	cancel := e.cancel
	e.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	e.wg.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.saveDirty(context.Background(), true)
}

// Replace swaps the set of alerts. An alert whose definition is unchanged
// keeps its state (firing or not, its window); a new or changed one starts
// from its stored state when that was saved for the same definition, else
// afresh; a removed one's stored state is deleted.
func (e *Engine) Replace(ctx context.Context, defs []*config.Alert) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	next := make(map[string]*runtime, len(defs))
	for _, def := range defs {
		h := defHash(def)
		if old, ok := e.alerts[def.Name]; ok && old.st.Hash == h {
			old.def = def
			next[def.Name] = old
			continue
		}
		st, err := loadState(ctx, e.o.KV, def.Name)
		if err != nil {
			return err
		}
		if st == nil || st.Hash != h {
			st = &state{Hash: h}
		}
		next[def.Name] = &runtime{def: def, st: st, dirty: true}
	}
	for name := range e.alerts {
		if _, keep := next[name]; !keep {
			if err := deleteState(ctx, e.o.KV, name); err != nil {
				return err
			}
			e.metrics.forget(name)
		}
	}
	e.alerts = next
	e.active.Store(len(next) > 0)
	return nil
}

// Dropped is how many signals were dropped because the queue was full.
func (e *Engine) Dropped() uint64 { return e.dropped.Load() }

func (e *Engine) loop(ctx context.Context) {
	t := time.NewTicker(e.o.Tick)
	defer t.Stop()
	lastSave := e.o.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-e.signals:
			e.mu.Lock()
			e.handle(ctx, s, e.o.Now())
			e.mu.Unlock()
		case <-t.C:
			now := e.o.Now()
			e.mu.Lock()
			e.tick(ctx, now)
			// Window counts change with every signal; saving them at
			// each would write to the store at the pace of ingest. A
			// transition is saved at once (evaluate); counts every few
			// seconds, which a restart may lose.
			if now.Sub(lastSave) >= saveEvery {
				if err := e.saveDirty(ctx, false); err != nil {
					e.log.Error("alert state not saved", "err", err)
				}
				lastSave = now
			}
			e.mu.Unlock()
		}
	}
}

// saveEvery is how often changed window counts are saved.
const saveEvery = 5 * time.Second

// handle applies one signal to the alerts it concerns; e.mu is held.
func (e *Engine) handle(ctx context.Context, s signal, now time.Time) {
	for _, rt := range e.alerts {
		if rt.match(s, now) {
			e.evaluate(ctx, rt, now)
		}
	}
}

// tick re-evaluates every alert; e.mu is held.
func (e *Engine) tick(ctx context.Context, now time.Time) {
	var lag uint64
	if e.o.Lag != nil {
		lag = e.o.Lag()
	}
	for _, rt := range e.alerts {
		if rt.def.When.Kind == config.AlertLogLag {
			rt.observeLag(lag, now)
		}
		e.evaluate(ctx, rt, now)
	}
}

// saveDirty saves the state of alerts whose counts changed; e.mu is held.
func (e *Engine) saveDirty(ctx context.Context, all bool) error {
	var errs []error
	for name, rt := range e.alerts {
		if !rt.dirty && !all {
			continue
		}
		if err := saveState(ctx, e.o.KV, name, rt.st); err != nil {
			errs = append(errs, err)
			continue
		}
		rt.dirty = false
	}
	return errors.Join(errs...)
}

// offer queues a signal without blocking.
func (e *Engine) offer(s signal) {
	if !e.active.Load() {
		return
	}
	select {
	case e.signals <- s:
	default:
		e.dropped.Add(1)
	}
}

// RunFinished reports a run that reached its final status. Test runs are
// ignored: they are an operator trying a workflow, not traffic.
func (e *Engine) RunFinished(workflow, runID string, failed, deadLettered, test bool, reason string) {
	if test || !e.active.Load() {
		return
	}
	detail := ""
	if failed {
		detail = fmt.Sprintf("run %s of %s failed: %s", runID, workflow, reason)
		if deadLettered {
			detail = fmt.Sprintf("run %s of %s was dead-lettered: %s", runID, workflow, reason)
		}
	}
	e.offer(signal{kind: sigRun, workflow: workflow, failed: failed, deadLetter: deadLettered, n: 1, detail: detail})
}

// FetchJobEnded reports a fetch job that completed or failed.
func (e *Engine) FetchJobEnded(connection, jobID string, failed bool, reason string) {
	if !e.active.Load() {
		return
	}
	detail := ""
	if failed {
		detail = fmt.Sprintf("fetch job %s of %s failed: %s", jobID, connection, reason)
	}
	e.offer(signal{kind: sigFetch, connection: connection, failed: failed, n: 1, detail: detail})
}

// ScheduleMissed reports a schedule slot that did not run on time; one of
// workflow and connection names the schedule.
func (e *Engine) ScheduleMissed(workflow, connection string, slot time.Time, reason string) {
	of := "connection " + connection
	if workflow != "" {
		of = "workflow " + workflow
	}
	e.offer(signal{kind: sigMissed, workflow: workflow, connection: connection, n: 1,
		detail: fmt.Sprintf("the %s slot of %s was %s", slot.UTC().Format(time.RFC3339), of, reason)})
}

// AuthRefused reports n pushes to a connection refused for their
// credentials (reason is the refusal's code).
func (e *Engine) AuthRefused(connection, reason string, n int) {
	if !e.active.Load() {
		return
	}
	e.offer(signal{kind: sigAuth, connection: connection, n: n,
		detail: fmt.Sprintf("a push to %s was refused: %s", connection, reason)})
}
