package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// Job statuses.
const (
	StatusRunning   = "running"
	StatusCompleted = "completed"
	StatusFailed    = "failed"
)

// Job triggers.
const (
	TriggerManual   = "manual"
	TriggerSchedule = "schedule"
)

// KeptJobs is how many job records per connection are kept (the most a
// job list can show).
const KeptJobs = 100

// Job is one fetch job as stored and shown by the API.
type Job struct {
	ID           string `json:"id"`
	Connection   string `json:"connection"`
	Trigger      string `json:"trigger"`
	MetadataOnly bool   `json:"metadataOnly,omitempty"`
	Status       string `json:"status"`
	// Entity is the entity being fetched (running) or last fetched.
	Entity   string    `json:"entity,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	// Records counts the events appended to the log; Duplicates those the
	// dedup window dropped; Bytes is the sum of the payload sizes of both.
	Records    int64 `json:"records"`
	Duplicates int64 `json:"duplicates,omitempty"`
	Batches    int64 `json:"batches"`
	Bytes      int64 `json:"bytes"`
	// Rate is records per second since the start.
	Rate  float64 `json:"rate"`
	Error string  `json:"error,omitempty"`
	// LeaseToken is the fencing token of the lease the job ran under
	// (lease/fetch/<connection>).
	LeaseToken uint64 `json:"leaseToken,omitempty"`
}

// Done reports whether the job has ended.
func (j *Job) Done() bool { return j.Status != StatusRunning }

func jobPrefix(connection string) string { return "fetchjob/" + url.PathEscape(connection) + "/" }

func jobKey(connection, id string) string { return jobPrefix(connection) + id }

// CursorKey is the KV key of a connection's cursor for entity ("" is the
// connector's default entity).
func CursorKey(connection, entity string) string {
	if entity == "" {
		entity = "_"
	}
	return "fetch/" + url.PathEscape(connection) + "/" + url.PathEscape(entity) + "/cursor"
}

func saveJob(ctx context.Context, kv store.KV, j *Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", j.ID, err)
	}
	if err := kv.Set(ctx, jobKey(j.Connection, j.ID), b, 0); err != nil {
		return fmt.Errorf("save job %s: %w", j.ID, err)
	}
	return nil
}

// loadJob reads one stored job.
func loadJob(ctx context.Context, kv store.KV, connection, id string) (*Job, error) {
	b, err := kv.Get(ctx, jobKey(connection, id))
	if err != nil {
		return nil, err
	}
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("decode job %s: %w", id, err)
	}
	return &j, nil
}

// listJobs returns a connection's stored jobs, oldest first.
func listJobs(ctx context.Context, kv store.KV, connection string) ([]*Job, error) {
	pairs, err := kv.List(ctx, jobPrefix(connection), 0)
	if err != nil {
		return nil, fmt.Errorf("list jobs of %s: %w", connection, err)
	}
	out := make([]*Job, 0, len(pairs))
	for _, p := range pairs {
		var j Job
		if err := json.Unmarshal(p.Value, &j); err != nil {
			continue // a record from an incompatible version is not worth failing the list
		}
		out = append(out, &j)
	}
	return out, nil
}

// pruneJobs deletes all but the newest KeptJobs records of connection.
func pruneJobs(ctx context.Context, kv store.KV, connection string) error {
	pairs, err := kv.List(ctx, jobPrefix(connection), 0)
	if err != nil {
		return err
	}
	for i := 0; i < len(pairs)-KeptJobs; i++ {
		if err := kv.Delete(ctx, pairs[i].Key); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// recoverJobs marks jobs left running by a crash as failed.
func recoverJobs(ctx context.Context, kv store.KV, exclusive bool, now time.Time) error {
	pairs, err := kv.List(ctx, "fetchjob/", 0)
	if err != nil {
		return fmt.Errorf("list fetch jobs: %w", err)
	}
	for _, p := range pairs {
		var j Job
		if json.Unmarshal(p.Value, &j) != nil || j.Status != StatusRunning {
			continue
		}
		// On a shared store another node may be running it.
		if !exclusive {
			held, err := leaseHeld(ctx, kv, j.Connection)
			if err != nil {
				return err
			}
			if held {
				continue
			}
		}
		j.Status, j.Finished = StatusFailed, now
		j.Error = "interrupted: the hub stopped while the job ran; the next fetch continues from the last committed batch"
		if err := saveJob(ctx, kv, &j); err != nil {
			return err
		}
	}
	return nil
}
