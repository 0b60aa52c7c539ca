package workflow

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// runRecorder is an Observer that also wants each finished run.
type runRecorder struct {
	mu   sync.Mutex
	done []RunResult
}

func (r *runRecorder) RunFinished(string, string)                         {}
func (r *runRecorder) TaskFinished(string, string, string, time.Duration) {}
func (r *runRecorder) Dispatched(uint64)                                  {}
func (r *runRecorder) RunDone(res RunResult) {
	r.mu.Lock()
	r.done = append(r.done, res)
	r.mu.Unlock()
}
func (r *runRecorder) results() []RunResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]RunResult(nil), r.done...)
}

// TestRunObserver: a RunObserver learns of each finished run: a completed
// one, a dead-lettered one (retries exhausted) with its error, and one
// failed by its field mapping before any task.
func TestRunObserver(t *testing.T) {
	f := newFixture(t)
	transient := &pluginsdk.Error{Message: "503 from target", Retryable: true}
	f.actions.script["first"] = []error{transient, transient}
	obs := &runRecorder{}
	e, err := New(Options{Store: f.st, Workflows: f.wfs, Resolver: f.actions, Workers: 1, Observer: obs,
		Retry: config.RetryPolicy{MaxAttempts: 2, InitialInterval: time.Millisecond, MaxInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	f.append(t, `{"kind":"order","id":"A","total":1}`)
	waitRuns(t, f, store.RunFilter{DeadLetter: true}, 1)
	f.append(t, `{"kind":"order","id":"B","total":2}`, `{"kind":"order","id":"C","total":"x"}`)
	waitRuns(t, f, store.RunFilter{Status: store.StatusCompleted}, 1)
	deadline := time.Now().Add(10 * time.Second)
	for len(obs.results()) < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	var dead, completed, fields int
	for _, r := range obs.results() {
		switch {
		case r.DeadLetter && r.Status == store.StatusFailed && r.Workflow == "orders" && r.ID != "":
			dead++
		case r.Status == store.StatusCompleted:
			completed++
		case r.Status == store.StatusFailed && !r.DeadLetter:
			fields++
		}
	}
	if dead != 1 || completed != 1 || fields != 1 {
		t.Fatalf("observed %+v", obs.results())
	}
}
