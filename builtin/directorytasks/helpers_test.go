package directorytasks

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "", store.Options{
		InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: make([]byte, store.SecretKeySize),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// newEnv is the task.Env the hub builds, with one directory deduplicated
// by email, then first and last name, in the Europe/Rome time zone.
func newEnv(t *testing.T, st store.Store) *task.Env {
	t.Helper()
	return envWith(t, st, []*config.Directory{{Name: "POOL_demo", Dedup: [][]string{{"email"}, {"firstName", "lastName"}}}})
}

// envWith is the task.Env the hub builds for these directories.
func envWith(t *testing.T, st store.Store, dirs []*config.Directory) *task.Env {
	t.Helper()
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return &task.Env{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Events: st.Log(),
		Contacts: directory.New(st, dirs), Location: rome,
	}
}

// service is the directory service the hub gave the tasks of env.
func service(env *task.Env) *directory.Service { return env.Contacts.(*directory.Service) }

// tasks builds the three registered tasks for env, as the hub does.
func tasks(t *testing.T, env *task.Env) map[string]task.Executor {
	t.Helper()
	out := map[string]task.Executor{}
	for _, id := range []string{"directory.upsert_contact", "directory.add_transaction", "directory.add_to_mailing_list"} {
		d, ok := task.Lookup(id)
		if !ok {
			t.Fatalf("task %s is not registered", id)
		}
		ex, err := d.New(env)
		if err != nil {
			t.Fatalf("build %s: %v", id, err)
		}
		out[id] = ex
	}
	return out
}

// run executes a task with the given `with:` and returns its output.
func run(t *testing.T, ex task.Executor, key, with string, mods ...func(*task.Call)) (directory.Result, error) {
	t.Helper()
	c := &task.Call{RunID: "run_1", Workflow: "wf", Task: "t", Input: json.RawMessage(with), IdempotencyKey: key, Attempt: 1}
	for _, m := range mods {
		m(c)
	}
	out, err := ex.Execute(context.Background(), c)
	if err != nil {
		return directory.Result{}, err
	}
	var r directory.Result
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("output %s: %v", out, err)
	}
	return r, nil
}

func mustRun(t *testing.T, ex task.Executor, key, with string, mods ...func(*task.Call)) directory.Result {
	t.Helper()
	r, err := run(t, ex, key, with, mods...)
	if err != nil {
		t.Fatalf("Execute(%s): %v", with, err)
	}
	return r
}

// permanent checks err is a non-retryable *pluginsdk.Error with exactly msg.
func permanent(t *testing.T, err error, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", msg)
	}
	pe := pluginsdk.AsError(err)
	if pe.Retryable {
		t.Errorf("error %q is retryable, want permanent", err)
	}
	if pe.Message != msg {
		t.Errorf("error message\n got %q\nwant %q", pe.Message, msg)
	}
}
