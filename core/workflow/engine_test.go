package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

const testWorkflows = `apiVersion: junction/v1
kind: Connection
metadata: {name: in}
spec: {connector: webhook}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: out}
spec: {connector: webhook}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders}
spec:
  trigger: {connection: in}
  filter:
    - {path: $.kind, op: eq, value: order}
  fields:
    id: {path: $.id, type: string}
    total: {path: $.total, type: number}
  tasks:
    - name: first
      uses: out.first
      with: {id: "{{ .fields.id }}", total: "{{ .fields.total }}"}
    - name: second
      uses: out.second
      with: {prev: "{{ .tasks.first.output.echo }}", label: "order {{ .fields.id }}"}
`

// fakeActions records calls and answers from a per-task script.
type fakeActions struct {
	mu     sync.Mutex
	calls  map[string][]*task.Call
	script map[string][]error // errors to return, in order, then success
	block  chan struct{}      // when set, "second" waits on it
}

func (f *fakeActions) Resolve(uses string) (task.Executor, error) {
	name := strings.TrimPrefix(uses, "out.")
	return task.ExecutorFunc(func(ctx context.Context, c *task.Call) (json.RawMessage, error) {
		f.mu.Lock()
		f.calls[name] = append(f.calls[name], c)
		var err error
		if s := f.script[name]; len(s) > 0 {
			err, f.script[name] = s[0], s[1:]
		}
		block := f.block
		f.mu.Unlock()
		if name == "second" && block != nil {
			select {
			case <-block:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if err != nil {
			return nil, err
		}
		var in map[string]any
		json.Unmarshal(c.Input, &in)
		return json.Marshal(map[string]any{"echo": in["id"], "key": c.IdempotencyKey})
	}), nil
}

func (f *fakeActions) callCount(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls[name])
}

type fixture struct {
	st      *store.Badger
	actions *fakeActions
	wfs     []*config.Workflow
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "wf.yaml")
	if err := os.WriteFile(path, []byte(testWorkflows), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := config.Load([]string{path}, config.Options{})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	st, err := store.Open(context.Background(), filepath.Join(dir, "db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{st: st, wfs: b.Workflows, actions: &fakeActions{calls: map[string][]*task.Call{}, script: map[string][]error{}}}
}

func (f *fixture) engine(t *testing.T, retry config.RetryPolicy) *Engine {
	t.Helper()
	e, err := New(Options{Store: f.st, Workflows: f.wfs, Resolver: f.actions, Workers: 2, Retry: retry})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e
}

func (f *fixture) append(t *testing.T, payloads ...string) {
	t.Helper()
	reqs := make([]store.AppendRequest, len(payloads))
	for i, p := range payloads {
		reqs[i] = store.AppendRequest{Connection: "in", Payload: json.RawMessage(p)}
	}
	if _, err := f.st.Log().Append(context.Background(), reqs); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) runs(t *testing.T, filter store.RunFilter) []*store.Run {
	t.Helper()
	runs, _, err := f.st.Runs().List(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func waitRuns(t *testing.T, f *fixture, filter store.RunFilter, n int) []*store.Run {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if runs := f.runs(t, filter); len(runs) == n {
			return runs
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("want %d runs matching %+v, have %d", n, filter, len(f.runs(t, filter)))
	return nil
}

func TestDispatchFilterFieldsAndTaskChaining(t *testing.T) {
	f := newFixture(t)
	f.engine(t, config.RetryPolicy{})
	f.append(t,
		`{"kind":"order","id":"A","total":"1.5"}`,
		`{"kind":"refund","id":"B"}`,
		`{"kind":"order","id":"C","total":"lots"}`,
	)
	completed := waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 1)
	failed := waitRuns(t, f, store.RunFilter{Status: store.StatusFailed}, 1)
	if all := f.runs(t, store.RunFilter{}); len(all) != 2 {
		t.Fatalf("runs = %d, want 2: the refund must not match the filter", len(all))
	}
	r := completed[0]
	if r.Fields["id"] != "A" || r.Fields["total"] != 1.5 {
		t.Errorf("fields = %v", r.Fields)
	}
	var second map[string]any
	json.Unmarshal(r.Tasks[1].Input, &second)
	if second["prev"] != "A" || second["label"] != "order A" {
		t.Errorf("second task input = %s: want the first task's output piped in", r.Tasks[1].Input)
	}
	if got := string(r.Tasks[0].Output); !strings.Contains(got, r.ID+"/first") {
		t.Errorf("idempotency key not run ID + task name: %s", got)
	}
	if !strings.Contains(failed[0].Error, "total") || f.actions.callCount("first") != 1 {
		t.Errorf("field error run: %q (first called %d times)", failed[0].Error, f.actions.callCount("first"))
	}
}

func TestRetriesThenDeadLetterAndReplay(t *testing.T) {
	f := newFixture(t)
	transient := &pluginsdk.Error{Message: "503 from target", Retryable: true}
	f.actions.script["first"] = []error{transient, transient, transient}
	e := f.engine(t, config.RetryPolicy{MaxAttempts: 3, InitialInterval: 10 * time.Millisecond, MaxInterval: 20 * time.Millisecond})
	f.append(t, `{"kind":"order","id":"A","total":1}`)
	runs := waitRuns(t, f, store.RunFilter{DeadLetter: true}, 1)
	r := runs[0]
	if r.Status != store.StatusFailed || r.Tasks[0].Attempts != 3 || !strings.Contains(r.Error, "gave up after 3 attempts") {
		t.Fatalf("dead-lettered run: status %s attempts %d error %q", r.Status, r.Tasks[0].Attempts, r.Error)
	}
	for i, c := range f.actions.calls["first"] {
		if c.IdempotencyKey != r.ID+"/first" || c.Attempt != i+1 {
			t.Errorf("attempt %d: key %s attempt %d", i, c.IdempotencyKey, c.Attempt)
		}
	}
	replayed, err := e.ReplayDeadLetters(context.Background(), "", nil)
	if err != nil || len(replayed) != 1 || replayed[0].ReplayOf != r.ID {
		t.Fatalf("replay: %v %+v", err, replayed)
	}
	waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 1)
	if dl := f.runs(t, store.RunFilter{DeadLetter: true}); len(dl) != 0 {
		t.Errorf("dead letters after replay = %d, want 0", len(dl))
	}
}

// TestImmediateRetryIsNotDropped: with a backoff of about nothing (a tiny
// initial interval, or Retry-After: 0) the retry timer fires while the
// worker that scheduled it still holds the run; the retry must still happen.
func TestImmediateRetryIsNotDropped(t *testing.T) {
	f := newFixture(t)
	transient := &pluginsdk.Error{Message: "503 from target", Retryable: true}
	const n = 40
	errs := make([]error, 2*n) // every run fails twice, in some order
	for i := range errs {
		errs[i] = transient
	}
	f.actions.script["first"] = errs
	e := f.engine(t, config.RetryPolicy{MaxAttempts: 2*n + 1, InitialInterval: time.Nanosecond, MaxInterval: time.Nanosecond})
	// A worker slow to let go (preempted, a GC pause) is what loses the race.
	e.beforeRelease = func() { time.Sleep(2 * time.Millisecond) }
	payloads := make([]string, n)
	for i := range payloads {
		payloads[i] = fmt.Sprintf(`{"kind":"order","id":"R%d","total":1}`, i)
	}
	f.append(t, payloads...)
	waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, n)
	if got := f.actions.callCount("first"); got != 3*n {
		t.Errorf("first task called %d times, want %d (each retry exactly once)", got, 3*n)
	}
}

func TestPermanentErrorFailsWithoutRetry(t *testing.T) {
	f := newFixture(t)
	f.actions.script["first"] = []error{pluginsdk.Errorf("404 from target")}
	f.engine(t, config.RetryPolicy{MaxAttempts: 5, InitialInterval: time.Millisecond})
	f.append(t, `{"kind":"order","id":"A","total":1}`)
	r := waitRuns(t, f, store.RunFilter{Status: store.StatusFailed}, 1)[0]
	if r.DeadLetter || r.Tasks[0].Attempts != 1 || r.Tasks[0].Error == nil || r.Tasks[0].Error.Retryable {
		t.Errorf("permanent failure: %+v", r.Tasks[0])
	}
	if r.Tasks[1].Status != store.StatusQueued || f.actions.callCount("second") != 0 {
		t.Errorf("second task ran after the first failed")
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	p := config.RetryPolicy{MaxAttempts: 5, InitialInterval: 10 * time.Millisecond, MaxInterval: time.Second}
	for attempt := 1; attempt <= 6; attempt++ {
		if d := backoff(p, attempt, 30*time.Second); d != 30*time.Second {
			t.Errorf("attempt %d: backoff %s ignores Retry-After 30s", attempt, d)
		}
		d := backoff(p, attempt, 0)
		base := min(p.InitialInterval<<(attempt-1), p.MaxInterval)
		if d < base/2 || d > base {
			t.Errorf("attempt %d: backoff %s outside [%s, %s]", attempt, d, base/2, base)
		}
	}
}

// TestResumeAfterCrash stores a run as a crash would leave it (first task
// done, second in flight) and checks a new engine resumes at the second task
// with the same idempotency key, without repeating the first.
func TestResumeAfterCrash(t *testing.T) {
	f := newFixture(t)
	now := time.Now().UTC()
	r := &store.Run{
		ID: "run_crashed", Workflow: "orders", Status: store.StatusRunning, EventID: "evt_0000000000000001",
		Input: json.RawMessage(`{"kind":"order","id":"Z","total":2}`), Fields: map[string]any{"id": "Z", "total": 2.0},
		Tasks: []store.TaskRun{
			{Name: "first", Uses: "out.first", Status: store.StatusCompleted, Output: json.RawMessage(`{"echo":"Z"}`), Attempts: 1},
			{Name: "second", Uses: "out.second", Status: store.StatusRunning, Attempts: 1},
		},
		CreatedAt: now, UpdatedAt: now,
	}
	if err := f.st.Runs().Create(context.Background(), []*store.Run{r}, nil); err != nil {
		t.Fatal(err)
	}
	f.engine(t, config.RetryPolicy{})
	done := waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 1)[0]
	if f.actions.callCount("first") != 0 || f.actions.callCount("second") != 1 {
		t.Fatalf("calls: first %d second %d, want 0 and 1", f.actions.callCount("first"), f.actions.callCount("second"))
	}
	c := f.actions.calls["second"][0]
	if c.IdempotencyKey != "run_crashed/second" || c.Attempt != 2 {
		t.Errorf("resumed call: key %s attempt %d", c.IdempotencyKey, c.Attempt)
	}
	var in map[string]any
	json.Unmarshal(done.Tasks[1].Input, &in)
	if in["prev"] != "Z" {
		t.Errorf("resumed task lost the first task's output: %s", done.Tasks[1].Input)
	}
}

func TestEventsBecomeRunsOnceAcrossRestart(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t, config.RetryPolicy{})
	f.append(t, `{"kind":"order","id":"A","total":1}`, `{"kind":"order","id":"B","total":1}`)
	waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 2)
	e.Close()
	e2 := f.engine(t, config.RetryPolicy{})
	f.append(t, `{"kind":"order","id":"C","total":1}`)
	waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 3)
	// Runs are created in the same write that moves the dispatcher's cursor,
	// and events are dispatched in order: once the cursor has passed C, a
	// second dispatch of A or B would already be visible.
	deadline := time.Now().Add(15 * time.Second)
	for e2.Lag() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("dispatcher lag still %d after 15s", e2.Lag())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(f.runs(t, store.RunFilter{})); n != 3 {
		t.Errorf("runs after restart = %d, want 3 (no event dispatched twice)", n)
	}
}

func TestRunOnce(t *testing.T) {
	f := newFixture(t)
	e := f.engine(t, config.RetryPolicy{})
	r, err := e.RunOnce(context.Background(), "orders", []byte(`{"kind":"order","id":"T","total":"9"}`))
	if err != nil || r.Status != store.StatusCompleted || !r.Test {
		t.Fatalf("test run: %v %+v", err, r)
	}
	r, err = e.RunOnce(context.Background(), "orders", []byte(`{"kind":"refund"}`))
	if err != nil || r.Status != store.StatusSkipped || !strings.Contains(r.Error, "filter") {
		t.Fatalf("filtered test run: %v %+v", err, r)
	}
	f.actions.script["first"] = []error{pluginsdk.Retryable("flaky")}
	r, err = e.RunOnce(context.Background(), "orders", []byte(`{"kind":"order","id":"T","total":"9"}`))
	if err != nil || r.Status != store.StatusFailed || r.DeadLetter {
		t.Fatalf("a test run reports a retryable failure at once and is not dead-lettered: %v %+v", err, r)
	}
	if _, err := e.RunOnce(context.Background(), "nope", []byte(`{}`)); err == nil {
		t.Error("unknown workflow accepted")
	}
}
