package store

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Run statuses.
const (
	StatusQueued    = "queued"
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
	StatusRetrying  = "retrying"
	StatusSkipped   = "skipped" // the filter did not match: recorded only for test runs
)

// Run is one execution of a workflow for one event.
type Run struct {
	ID         string `json:"id"`
	Workflow   string `json:"workflow"`
	EventID    string `json:"eventId,omitempty"`
	Connection string `json:"connection,omitempty"`
	Status     string `json:"status"`
	Test       bool   `json:"test,omitempty"`     // started by "run test data"
	ReplayOf   string `json:"replayOf,omitempty"` // the run this one replays
	// ConfigVersion is the counter of the configuration whose workflow
	// definition the run was created from and executes on (see
	// GET /api/v1/config); 0 for runs stored before versions existed.
	ConfigVersion uint64          `json:"configVersion,omitempty"`
	Input         json.RawMessage `json:"input"`            // the event payload
	Fields        map[string]any  `json:"fields,omitempty"` // mapped fields
	Tasks         []TaskRun       `json:"tasks"`
	Attempt       int             `json:"attempt"` // attempts of the current task so far
	NextAt        time.Time       `json:"nextAttemptAt,omitzero"`
	Error         string          `json:"error,omitempty"`
	DeadLetter    bool            `json:"deadLetter,omitempty"`
	CreatedAt     time.Time       `json:"createdAt"`
	UpdatedAt     time.Time       `json:"updatedAt"`
	FinishedAt    time.Time       `json:"finishedAt,omitzero"`
}

// TaskRun records one task of a run.
// Clone returns a copy of r that shares nothing r's owner may change in
// place (its status, tasks and fields), for handing a run that a worker is
// about to execute to a reader such as an HTTP handler.
func (r *Run) Clone() *Run {
	c := *r
	c.Tasks = slices.Clone(r.Tasks)
	c.Fields = maps.Clone(r.Fields)
	return &c
}

type TaskRun struct {
	Name       string          `json:"name"`
	Uses       string          `json:"uses"`
	Status     string          `json:"status"` // queued running completed failed retrying
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      *TaskError      `json:"error,omitempty"`
	Attempts   int             `json:"attempts"`
	StartedAt  time.Time       `json:"startedAt,omitzero"`
	FinishedAt time.Time       `json:"finishedAt,omitzero"`
	DurationMS float64         `json:"durationMs,omitempty"` // of the last attempt
	// Node is the node that ran the last attempt (Settings store.node).
	Node string `json:"node,omitempty"`
}

// TaskError is a task's failure as recorded on the run.
type TaskError struct {
	Code      string `json:"code,omitempty"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

// RunFilter selects runs for listing. Zero fields match everything.
type RunFilter struct {
	Status     string
	Workflow   string
	Since      time.Time
	DeadLetter bool   // only dead-lettered runs
	After      string // pagination: return runs older than this run ID
	Limit      int    // 0: 50
}

// Runs stores workflow runs. Runs are listed newest first.
type Runs interface {
	// Create stores new runs and, in the same write, sets the KV writes
	// (the dispatcher's cursor), so runs for an event are created exactly once.
	Create(ctx context.Context, runs []*Run, kv []KVWrite) error
	// Update replaces a run, keeping its indexes in step.
	Update(ctx context.Context, r *Run) error
	Get(ctx context.Context, id string) (*Run, error)
	// List returns runs matching f, newest first, and the cursor for the next
	// page ("" when there is none).
	List(ctx context.Context, f RunFilter) ([]*Run, string, error)
	// Unfinished returns runs in queued, running or retrying status (crash
	// recovery and the retry timer).
	Unfinished(ctx context.Context) ([]*Run, error)
	// Counts returns the number of runs by status (for metrics and the console).
	Counts(ctx context.Context) (map[string]int, error)
}
