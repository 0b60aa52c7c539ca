package workflow

import (
	"time"

	"github.com/junctionhub/junction/core/store"
)

// RunResult is what an observer learns about a run that reached a final
// status: enough to alert on it, nothing it could hold on to.
type RunResult struct {
	ID         string
	Workflow   string
	Status     string
	Error      string
	DeadLetter bool
	// Test runs (run test data) are operator experiments, not traffic.
	Test       bool
	FinishedAt time.Time
}

// RunObserver is an Observer that also wants each finished run itself
// (alerts: was it dead-lettered, and why did it fail). The engine checks
// for it on its Observer, so a plain metrics observer need not implement it.
type RunObserver interface {
	RunDone(RunResult)
}

// observeFinished tells the observer that r reached its final status.
func (e *Engine) observeFinished(r *store.Run) {
	if e.opts.Observer == nil {
		return
	}
	e.opts.Observer.RunFinished(r.Workflow, r.Status)
	if ro, ok := e.opts.Observer.(RunObserver); ok {
		ro.RunDone(RunResult{
			ID: r.ID, Workflow: r.Workflow, Status: r.Status, Error: r.Error,
			DeadLetter: r.DeadLetter, Test: r.Test, FinishedAt: r.FinishedAt,
		})
	}
}
