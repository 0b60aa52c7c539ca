package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/alert"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/schedule"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/core/workflow"
)

type discardActions struct{}

func (discardActions) Action(string, string) (task.Executor, error) {
	return task.ExecutorFunc(func(context.Context, *task.Call) (json.RawMessage, error) { return nil, nil }), nil
}

// TestAlertAdapters: what the fetch runner, the scheduler and the engine
// report reaches the alerts they concern, and only those.
func TestAlertAdapters(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	notify := config.AlertNotify{Connection: "ops", Channel: "webhook"}
	def := func(name string, c config.AlertCondition) *config.Alert {
		return &config.Alert{Name: name, When: c, Notify: notify, Cooldown: time.Hour}
	}
	defs := []*config.Alert{
		def("fetch", config.AlertCondition{Kind: config.AlertFetchFailed, Connection: "sftp"}),
		def("nightly", config.AlertCondition{Kind: config.AlertScheduleMissed, Workflow: "nightly", Count: 1, Window: time.Hour}),
		def("pull", config.AlertCondition{Kind: config.AlertScheduleMissed, Connection: "sftp", Count: 1, Window: time.Hour}),
		def("dlq", config.AlertCondition{Kind: config.AlertRunDeadLettered, Count: 1, Window: time.Hour}),
	}
	e, err := alert.New(context.Background(), alert.Options{KV: st.KV(), Alerts: defs, Actions: discardActions{}, Logger: quiet, Tick: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	t.Cleanup(func() { e.Close() })

	fetchJobDone(e)(fetch.Job{ID: "j1", Connection: "sftp", MetadataOnly: true, Status: fetch.StatusFailed, Error: "metadata only"})
	fetchJobDone(e)(fetch.Job{ID: "j2", Connection: "s3", Status: fetch.StatusFailed, Error: "other connection"})
	fetchJobDone(e)(fetch.Job{ID: "j3", Connection: "sftp", Status: fetch.StatusFailed, Error: "host key mismatch"})
	scheduleMissed(e)(schedule.WorkflowKey("nightly"), time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC), schedule.MissedWhileDown)
	obs := engineObserver{alerts: e}
	obs.RunDone(workflow.RunResult{ID: "r1", Workflow: "w", Status: store.StatusFailed, DeadLetter: true, Test: true})
	obs.RunDone(workflow.RunResult{ID: "r2", Workflow: "w", Status: store.StatusFailed})

	firing := func() map[string]string {
		out := map[string]string{}
		for _, a := range e.Status().Alerts {
			if a.Firing {
				out[a.Name] = a.LastDetail
			}
		}
		return out
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(firing()) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // ten ticks: anything else reported would fire by now
	got := firing()
	if len(got) != 2 || got["fetch"] != "fetch job j3 of sftp failed: host key mismatch" ||
		got["nightly"] != "the 2026-03-01T02:00:00Z slot of workflow nightly was "+schedule.MissedWhileDown {
		t.Fatalf("firing %q, want fetch and nightly only", got)
	}
}
