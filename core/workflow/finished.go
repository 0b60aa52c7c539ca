package workflow

import "github.com/junctionhub/junction/core/store"

// RunWatcher is what an Observer also implements to be given each run that
// finished, as stored (the live tap shows them). The run is the engine's:
// a watcher reads it before returning and keeps nothing of it.
type RunWatcher interface {
	WatchRun(r *store.Run)
}

// finished tells the observer that r finished: its outcome (RunFinished,
// RunObserver) and, to a RunWatcher, the run itself.
func (e *Engine) finished(r *store.Run) {
	e.observeFinished(r)
	if w, ok := e.opts.Observer.(RunWatcher); ok {
		w.WatchRun(r)
	}
}
