package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
)

// Func is what a schedule runs. at is the slot being run (the planned time,
// also for a missed slot run late at start-up).
type Func func(ctx context.Context, at time.Time) error

// WorkflowStarter starts a run of a workflow whose trigger is a schedule.
// The hub's workflow engine implements it; the payload of such a run is
// WorkflowPayload.
type WorkflowStarter interface {
	StartScheduled(ctx context.Context, workflow string, at time.Time) error
}

// ConnectionFetcher runs a scheduled fetch of a pull connection and returns
// when it is over (the scheduler relies on that to never overlap two runs).
// fetch.Runner implements it.
type ConnectionFetcher interface {
	FetchScheduled(ctx context.Context, connection string, at time.Time) error
}

// WorkflowPayload is the event payload of a scheduled workflow run:
// {"scheduledAt": "<RFC 3339>", "workflow": "<name>"}.
func WorkflowPayload(workflow string, at time.Time) json.RawMessage {
	b, _ := json.Marshal(struct {
		ScheduledAt string `json:"scheduledAt"`
		Workflow    string `json:"workflow"`
	}{at.UTC().Format(time.RFC3339), workflow})
	return b
}

// Options configures a Scheduler.
type Options struct {
	// KV keeps each schedule's next run, so schedules survive restarts.
	KV store.KV
	// Clock defaults to the system clock.
	Clock Clock
	// Timezone is the organisation's time zone (Settings.Timezone), used by
	// schedules that name none. Default UTC.
	Timezone string
	Logger   *slog.Logger
	// MaxWait caps one sleep so that a wall clock change (suspend, NTP step)
	// is noticed within it. Default 1 minute.
	MaxWait time.Duration
	// Missed, when set, is told about each slot that did not run on time:
	// one that passed while Junction was down (it runs once, late) or one
	// skipped because the run before it outlasted it. key is the entry's
	// key (ConnectionKey, WorkflowKey). It must not block.
	Missed func(key string, slot time.Time, reason string)
	// Leases decides which node fires a slot when several share the store
	// (see cluster.go). Default: a Leaser on KV with lease.DefaultTTL.
	Leases *lease.Leaser
}

// Scheduler runs Funcs on their schedules: one goroutine waits for the
// earliest due entry; each run gets its own goroutine, and an entry never
// runs twice at once. See doc.go for the persistence rules.
type Scheduler struct {
	o   Options
	log *slog.Logger

	mu      sync.Mutex
	entries map[string]*entry
	wake    chan struct{}
	started bool
	cancel  context.CancelFunc
	loopEnd chan struct{}
	runs    sync.WaitGroup
}

type entry struct {
	key     string
	spec    *Spec
	run     Func
	st      state
	dueNow  bool // missed while down or interrupted: run once at start
	running bool
	// notBefore holds a due entry back while another node fires it.
	notBefore time.Time
}

// state is what the KV keeps per schedule (key "schedule/<key>").
type state struct {
	Spec      string    `json:"spec"`
	Applied   time.Time `json:"applied"`
	Next      time.Time `json:"next"`
	LastStart time.Time `json:"lastStart,omitzero"`
	LastEnd   time.Time `json:"lastEnd,omitzero"`
	LastError string    `json:"lastError,omitempty"`
	// Token is the lease token this state was written under: a node that
	// lost the lease cannot overwrite a newer holder's state.
	Token uint64 `json:"token,omitempty"`
}

// New returns a scheduler; Add entries, then Start it.
func New(o Options) *Scheduler {
	if o.Clock == nil {
		o.Clock = SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxWait <= 0 {
		o.MaxWait = time.Minute
	}
	if o.Leases == nil {
		o.Leases = lease.New(lease.Options{KV: o.KV, Logger: o.Logger})
	}
	return &Scheduler{o: o, log: o.Logger, entries: map[string]*entry{}, wake: make(chan struct{}, 1)}
}

// Key names of entries.
func ConnectionKey(name string) string { return "connection/" + name }
func WorkflowKey(name string) string   { return "workflow/" + name }

// never parks an entry that has no next run.
var never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

func kvKey(key string) string { return "schedule/" + url.PathEscape(key) }

// Add schedules run under key. The stored state of key is loaded: an
// unchanged schedule keeps its next run (and runs once now if that passed
// while Junction was down, or if its last run was interrupted); a new or
// changed schedule is applied now.
func (s *Scheduler) Add(ctx context.Context, key string, sched *config.Schedule, run Func) error {
	spec, err := NewSpec(sched, s.o.Timezone)
	if err != nil {
		return fmt.Errorf("schedule %s: %w", key, err)
	}
	e := &entry{key: key, spec: spec, run: run}
	now := s.o.Clock.Now()
	raw, err := s.o.KV.Get(ctx, kvKey(key))
	switch {
	case err == nil:
		if jerr := json.Unmarshal(raw, &e.st); jerr != nil {
			s.log.Warn("schedule state unreadable; applying anew", "schedule", key, "err", jerr)
			e.st = state{}
		}
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("schedule %s: load state: %w", key, err)
	}
	if e.st.Spec != spec.String() || e.st.Next.IsZero() {
		next, err := spec.Next(now, now)
		if err != nil {
			return fmt.Errorf("schedule %s: %w", key, err)
		}
		e.st = state{Spec: spec.String(), Applied: now, Next: next}
		if err := s.save(ctx, e.key, e.st); err != nil {
			return err
		}
	} else {
		interrupted := e.st.LastStart.After(e.st.LastEnd)
		e.dueNow = !e.st.Next.After(now) || interrupted
		if e.dueNow {
			s.log.Info("schedule missed while stopped; running once now", "schedule", key, "slot", e.st.Next, "interrupted", interrupted)
			if !e.st.Next.After(now) {
				s.missed(key, e.st.Next, MissedWhileDown)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.entries[key]; dup {
		return fmt.Errorf("schedule %s: added twice", key)
	}
	s.entries[key] = e
	s.poke()
	return nil
}

// AddConnections schedules every connection that has a schedule.
func (s *Scheduler) AddConnections(ctx context.Context, conns []*config.Connection, f ConnectionFetcher) error {
	for _, c := range conns {
		if c.Schedule == nil {
			continue
		}
		name := c.Name
		if err := s.Add(ctx, ConnectionKey(name), c.Schedule, func(ctx context.Context, at time.Time) error {
			return f.FetchScheduled(ctx, name, at)
		}); err != nil {
			return fmt.Errorf("connection %s: %w", name, err)
		}
	}
	return nil
}

// AddWorkflows schedules every workflow triggered by a schedule.
func (s *Scheduler) AddWorkflows(ctx context.Context, wfs []*config.Workflow, w WorkflowStarter) error {
	for _, wf := range wfs {
		if wf.Trigger.Schedule == nil {
			continue
		}
		name := wf.Name
		if err := s.Add(ctx, WorkflowKey(name), wf.Trigger.Schedule, func(ctx context.Context, at time.Time) error {
			return w.StartScheduled(ctx, name, at)
		}); err != nil {
			return fmt.Errorf("workflow %s: %w", name, err)
		}
	}
	return nil
}

func (s *Scheduler) save(ctx context.Context, key string, st state) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("schedule %s: encode state: %w", key, err)
	}
	if err := s.o.KV.Set(ctx, kvKey(key), b, 0); err != nil {
		return fmt.Errorf("schedule %s: save state: %w", key, err)
	}
	return nil
}

// poke wakes the loop (non-blocking).
func (s *Scheduler) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start runs the scheduler until ctx ends or Close.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("scheduler already started")
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(ctx)
	s.loopEnd = make(chan struct{})
	go s.loop(ctx)
	return nil
}

// Close stops the loop, cancels running jobs and waits for them. A job
// cancelled here counts as interrupted: it runs once at the next start.
func (s *Scheduler) Close() error {
	s.mu.Lock()
	cancel, end := s.cancel, s.loopEnd
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	<-end
	s.runs.Wait()
	return nil
}

func (s *Scheduler) loop(ctx context.Context) {
	defer close(s.loopEnd)
	for {
		now := s.o.Clock.Now()
		wait := s.fireDue(ctx, now)
		t := s.o.Clock.TimerAt(now.Add(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		case <-s.wake:
		}
		t.Stop()
	}
}

// fireDue starts every due entry that is not running and returns how long
// to sleep until the next one.
func (s *Scheduler) fireDue(ctx context.Context, now time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := s.o.MaxWait
	for _, e := range s.entries {
		if e.running {
			continue
		}
		if e.notBefore.After(now) {
			wait = min(wait, e.notBefore.Sub(now))
			continue
		}
		if e.dueNow || !e.st.Next.After(now) {
			s.fire(ctx, e, now)
			if e.running {
				continue
			}
		}
		if d := e.st.Next.Sub(now); d < wait {
			wait = max(d, 0)
		}
	}
	return wait
}

// fire claims e's slot for this node (cluster.go), which then runs it;
// s.mu is held.
func (s *Scheduler) fire(ctx context.Context, e *entry, now time.Time) {
	e.running = true
	s.runs.Add(1)
	go s.claim(ctx, e, now)
}

// start plans e's slot and reports it, with the state to run it under;
// s.mu is held, and so is the slot's lease (token). ok is false when the
// entry has no next run.
func (s *Scheduler) start(ctx context.Context, e *entry, now time.Time, token uint64) (at time.Time, ok bool) {
	at = e.st.Next
	if at.After(now) { // an interrupted run whose slot is still ahead
		at = e.st.LastStart
	}
	next, err := e.spec.Next(e.st.Applied, now)
	if err != nil {
		// Only a cron expression that matches nothing gets here; it is
		// parked rather than retried in a busy loop.
		s.log.Error("schedule has no next run", "schedule", e.key, "err", err)
		e.st.Next, e.dueNow = never, false
		return at, false
	}
	st := e.st
	st.Next, st.LastStart, st.Token = next, now, token
	// The next run is persisted before this one starts, so a restart never
	// runs the same slot again; see doc.go.
	if err := s.saveFenced(ctx, e.key, st); errors.Is(err, lease.ErrFenced) {
		// A newer holder fired it: this node lost the lease meanwhile.
		s.log.Warn("schedule slot taken by another node", "schedule", e.key, "err", err)
		return at, false
	} else if err != nil {
		// Running anyway keeps the schedule alive; the cost of the failed
		// save is at most one repeated run after a restart.
		s.log.Error("schedule state not saved; a restart may repeat this run", "schedule", e.key, "err", err)
	}
	e.st, e.dueNow = st, false
	return at, true
}

// execute runs e's slot at; ctx ends on shutdown or when the slot's lease
// is lost.
func (s *Scheduler) execute(ctx context.Context, e *entry, at time.Time) {
	log := s.log.With("schedule", e.key, "slot", at)
	log.Info("scheduled run starting")
	err := e.run(ctx, at)
	end := s.o.Clock.Now()

	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		// Stopped by shutdown: leave LastStart after LastEnd so that the
		// next start runs it once more.
		log.Info("scheduled run interrupted (shutdown or lease lost)", "err", err)
		return
	}
	st := e.st
	st.LastEnd, st.LastError = end, ""
	if err != nil {
		st.LastError = err.Error()
		log.Error("scheduled run failed", "err", err)
	} else {
		log.Info("scheduled run finished", "duration", end.Sub(st.LastStart))
	}
	if !st.Next.After(end) {
		// Slots that passed while this run went on are skipped, not queued:
		// runs never overlap and never pile up.
		if next, nerr := e.spec.Next(st.Applied, end); nerr == nil {
			log.Warn("scheduled run outlasted its period; skipping to the next slot", "skipped", st.Next, "next", next)
			s.missed(e.key, st.Next, MissedOverrun)
			st.Next = next
		}
	}
	if err := s.saveFenced(context.WithoutCancel(ctx), e.key, st); err != nil {
		log.Error("schedule state not saved", "err", err)
	}
	e.st = st
	s.poke()
}

// EntryStatus is one schedule as the API shows it.
type EntryStatus struct {
	Key       string    `json:"key"`
	Schedule  string    `json:"schedule"`
	Next      time.Time `json:"next"`
	Running   bool      `json:"running"`
	LastStart time.Time `json:"lastStart,omitzero"`
	LastEnd   time.Time `json:"lastEnd,omitzero"`
	LastError string    `json:"lastError,omitempty"`
}

// Status lists the schedules by key.
func (s *Scheduler) Status() []EntryStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]EntryStatus, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, EntryStatus{
			Key: e.key, Schedule: e.spec.String(), Next: e.st.Next, Running: e.running,
			LastStart: e.st.LastStart, LastEnd: e.st.LastEnd, LastError: e.st.LastError,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Next returns the next run of key.
func (s *Scheduler) Next(key string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if !ok {
		return time.Time{}, false
	}
	return e.st.Next, true
}

// Reasons a slot was missed (Options.Missed).
const (
	MissedWhileDown = "missed while Junction was not running; ran once at start-up"
	MissedOverrun   = "skipped: the previous run outlasted it"
)

func (s *Scheduler) missed(key string, slot time.Time, reason string) {
	if s.o.Missed != nil {
		s.o.Missed(key, slot, reason)
	}
}
