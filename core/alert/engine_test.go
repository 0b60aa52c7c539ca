package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func openKV(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dir, store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// sentCall is one action call the fake connection received.
type sentCall struct {
	conn, action string
	input        map[string]any
	key          string
}

// fakeActions records every call; fail, when set, answers the calls
// (n counts the calls to that connection).
type fakeActions struct {
	mu    sync.Mutex
	calls []sentCall
	fail  func(conn string, n int) error
}

func (f *fakeActions) Action(conn, action string) (task.Executor, error) {
	return task.ExecutorFunc(func(_ context.Context, c *task.Call) (json.RawMessage, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		var in map[string]any
		_ = json.Unmarshal(c.Input, &in)
		f.calls = append(f.calls, sentCall{conn, action, in, c.IdempotencyKey})
		if f.fail != nil {
			n := 0
			for _, c := range f.calls {
				if c.conn == conn {
					n++
				}
			}
			return nil, f.fail(conn, n)
		}
		return json.RawMessage(`{}`), nil
	}), nil
}

func (f *fakeActions) sent() []sentCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentCall(nil), f.calls...)
}

func webhookAlert(name string, c config.AlertCondition, cooldown time.Duration) *config.Alert {
	return &config.Alert{Name: name, When: c, Cooldown: cooldown, Notify: config.AlertNotify{Connection: "ops", Channel: "webhook"}}
}

func newEngine(t *testing.T, kv store.KV, alerts ...*config.Alert) *Engine {
	t.Helper()
	e, err := New(context.Background(), Options{KV: kv, Alerts: alerts, Actions: &fakeActions{}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// step applies signals at now, then a tick, and returns the notices queued.
func step(e *Engine, now time.Time, sigs ...signal) []string {
	ctx := context.Background()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range sigs {
		e.handle(ctx, s, now)
	}
	e.tick(ctx, now)
	var out []string
	for {
		select {
		case n := <-e.notices:
			out = append(out, n.Kind+":"+itoa(n.Occurrences))
		default:
			return out
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func failedRun(wf string) signal {
	return signal{kind: sigRun, workflow: wf, failed: true, n: 1, detail: "run x failed"}
}
func okRun(wf string) signal { return signal{kind: sigRun, workflow: wf, n: 1} }

func repeat(s signal, n int) []signal {
	out := make([]signal, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestLifecycle drives each condition through firing, grouping within the
// cooldown, a repeat after it, and resolution, step by step.
func TestLifecycle(t *testing.T) {
	type step_ struct {
		at   time.Duration
		sigs []signal
		lag  uint64
		want string // notices queued, comma separated
	}
	tests := []struct {
		name  string
		cond  config.AlertCondition
		steps []step_
	}{
		{"runs_failed count", config.AlertCondition{Kind: config.AlertRunsFailed, Workflow: "w", Count: 3, MinRuns: 1, Window: time.Minute}, []step_{
			{0, repeat(failedRun("w"), 2), 0, ""},
			{time.Second, []signal{failedRun("other"), okRun("w")}, 0, ""},
			{2 * time.Second, []signal{failedRun("w")}, 0, "firing:3"},
			{3 * time.Second, repeat(failedRun("w"), 5), 0, ""},             // grouped during the cooldown
			{4 * time.Minute, nil, 0, "resolved:8"},                         // the window emptied
			{4*time.Minute + time.Second, repeat(failedRun("w"), 3), 0, ""}, // within the cooldown of the first notice
			{11 * time.Minute, repeat(failedRun("w"), 3), 0, "firing:3"},    // a new episode, after the cooldown
		}},
		{"runs_failed repeat after cooldown", config.AlertCondition{Kind: config.AlertRunsFailed, Workflow: "w", Count: 1, MinRuns: 1, Window: time.Hour}, []step_{
			{0, []signal{failedRun("w")}, 0, "firing:1"},
			{time.Minute, repeat(failedRun("w"), 4), 0, ""},
			{10 * time.Minute, nil, 0, "repeat:4"},
			{21 * time.Minute, nil, 0, ""}, // nothing new: no repeat
			{22 * time.Minute, []signal{failedRun("w")}, 0, "repeat:1"},
		}},
		{"runs_failed ratio", config.AlertCondition{Kind: config.AlertRunsFailed, Workflow: "w", Ratio: 0.5, MinRuns: 4, Window: time.Minute}, []step_{
			{0, []signal{failedRun("w"), okRun("w"), okRun("w")}, 0, ""}, // 1 of 3: fewer than min_runs
			{time.Second, repeat(okRun("w"), 3), 0, ""},                  // 1 of 6
			{2 * time.Second, repeat(failedRun("w"), 4), 0, "firing:5"},  // 5 of 10
			{3 * time.Second, repeat(okRun("w"), 10), 0, "resolved:5"},   // 5 of 11
		}},
		{"held within the cooldown, announced after it", config.AlertCondition{Kind: config.AlertFetchFailed}, []step_{
			{0, []signal{{kind: sigFetch, connection: "sftp", failed: true}}, 0, "firing:1"},
			{time.Minute, []signal{{kind: sigFetch, connection: "sftp"}}, 0, "resolved:1"},
			{2 * time.Minute, []signal{{kind: sigFetch, connection: "sftp", failed: true}}, 0, ""},
			{5 * time.Minute, []signal{{kind: sigFetch, connection: "s3", failed: true}}, 0, ""},
			{10 * time.Minute, nil, 0, "firing:2"},
			{11 * time.Minute, []signal{{kind: sigFetch, connection: "sftp"}}, 0, ""},
			{12 * time.Minute, []signal{{kind: sigFetch, connection: "s3"}}, 0, "resolved:2"},
		}},
		{"dead letters of any workflow", config.AlertCondition{Kind: config.AlertRunDeadLettered, Count: 1, Window: time.Minute}, []step_{
			{0, []signal{failedRun("w")}, 0, ""},
			{time.Second, []signal{{kind: sigRun, workflow: "v", failed: true, deadLetter: true, n: 1}}, 0, "firing:1"},
			{2 * time.Minute, nil, 0, "resolved:1"},
		}},
		{"fetch failed clears on success", config.AlertCondition{Kind: config.AlertFetchFailed, Connection: "sftp"}, []step_{
			{0, []signal{{kind: sigFetch, connection: "s3", failed: true}}, 0, ""},
			{time.Second, []signal{{kind: sigFetch, connection: "sftp", failed: true, detail: "boom"}}, 0, "firing:1"},
			{time.Minute, []signal{{kind: sigFetch, connection: "sftp"}}, 0, "resolved:1"},
		}},
		{"schedule missed", config.AlertCondition{Kind: config.AlertScheduleMissed, Workflow: "nightly", Count: 2, Window: time.Hour}, []step_{
			{0, []signal{{kind: sigMissed, workflow: "nightly"}, {kind: sigMissed, connection: "nightly"}}, 0, ""},
			{time.Second, []signal{{kind: sigMissed, workflow: "nightly"}}, 0, "firing:2"},
		}},
		{"auth failures", config.AlertCondition{Kind: config.AlertAuthFailures, Connection: "in", Count: 10, Window: time.Minute}, []step_{
			{0, []signal{{kind: sigAuth, connection: "in", n: 9}, {kind: sigAuth, connection: "other", n: 50}}, 0, ""},
			{time.Second, []signal{{kind: sigAuth, connection: "in", n: 1}}, 0, "firing:10"},
			{3 * time.Minute, nil, 0, "resolved:10"},
		}},
		{"log lag for a while", config.AlertCondition{Kind: config.AlertLogLag, Above: 100, For: time.Minute}, []step_{
			{0, nil, 500, ""},
			{30 * time.Second, nil, 50, ""}, // dipped: the minute starts again
			{40 * time.Second, nil, 500, ""},
			{90 * time.Second, nil, 500, ""},
			{100 * time.Second, nil, 500, "firing:1"},
			{200 * time.Second, nil, 0, "resolved:1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := openKV(t, t.TempDir()).KV()
			var lag uint64
			e, err := New(context.Background(), Options{KV: kv, Actions: &fakeActions{}, Logger: quiet,
				Alerts: []*config.Alert{webhookAlert("a", tt.cond, 10*time.Minute)}, Lag: func() uint64 { return lag }})
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				lag = s.lag
				got := strings.Join(step(e, t0.Add(s.at), s.sigs...), ",")
				if got != s.want {
					t.Fatalf("step %d (+%s): notices %q, want %q", i, s.at, got, s.want)
				}
			}
		})
	}
}

// TestRestartKeepsState: a restart neither repeats the firing notice nor
// forgets to resolve; a changed definition starts afresh.
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	st := openKV(t, dir)
	def := webhookAlert("a", config.AlertCondition{Kind: config.AlertRunsFailed, Workflow: "w", Count: 1, MinRuns: 1, Window: time.Minute}, time.Minute)
	e := newEngine(t, st.KV(), def)
	if got := step(e, t0, failedRun("w")); len(got) != 1 {
		t.Fatalf("first start: %v", got)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := newEngine(t, st.KV(), def)
	if got := step(e2, t0.Add(10*time.Second), failedRun("w")); len(got) != 0 {
		t.Fatalf("after a restart, still holding: %v, want no notice", got)
	}
	if s := e2.Status(); !s.Alerts[0].Firing || len(s.Recent) != 1 || s.Recent[0].Kind != KindFiring {
		t.Fatalf("status after restart: %+v", s)
	}
	if got := step(e2, t0.Add(5*time.Minute)); strings.Join(got, ",") != "resolved:2" {
		t.Fatalf("resolution after a restart: %v", got)
	}

	// Replace keeps an unchanged alert's state, resets a changed one and
	// forgets a removed one.
	step(e2, t0.Add(20*time.Minute), failedRun("w"))
	moved := *def
	moved.Pos, moved.When.Pos = config.Pos{File: "other.yaml", Line: 9}, config.Pos{File: "other.yaml", Line: 12}
	if err := e2.Replace(context.Background(), []*config.Alert{&moved}); err != nil {
		t.Fatal(err)
	}
	if s := e2.Status(); !s.Alerts[0].Firing {
		t.Fatalf("an alert moved to another file lost its state: %+v", s.Alerts)
	}
	changed := *def
	changed.Cooldown = 2 * time.Minute
	other := webhookAlert("b", config.AlertCondition{Kind: config.AlertFetchFailed}, time.Minute)
	ctx := context.Background()
	if err := e2.Replace(ctx, []*config.Alert{def, other}); err != nil {
		t.Fatal(err)
	}
	if s := e2.Status(); !s.Alerts[0].Firing || s.Alerts[0].Name != "a" {
		t.Fatalf("unchanged alert lost its state: %+v", s.Alerts)
	}
	if err := e2.Replace(ctx, []*config.Alert{&changed}); err != nil {
		t.Fatal(err)
	}
	if s := e2.Status(); len(s.Alerts) != 1 || s.Alerts[0].Firing {
		t.Fatalf("changed alert kept its state: %+v", s.Alerts)
	}
	if _, err := st.KV().Get(ctx, stateKey("b")); err == nil {
		t.Error("removed alert's state is still stored")
	}
	// An alert removed while stopped loses its state at the next start.
	if err := e2.Close(); err != nil {
		t.Fatal(err)
	}
	newEngine(t, st.KV(), other)
	if _, err := st.KV().Get(ctx, stateKey("a")); err == nil {
		t.Error("state of an alert removed while stopped is still stored")
	}
}

// TestDelivery sends through the engine's goroutines: the webhook body
// carries text and the structured fields, email gets to and subject, and a
// retryable failure is retried under the same idempotency key.
func TestDelivery(t *testing.T) {
	kv := openKV(t, t.TempDir()).KV()
	acts := &fakeActions{fail: func(conn string, n int) error {
		if conn == "ops" && n == 1 {
			return &pluginsdk.Error{Code: "http_503", Message: "busy", Retryable: true}
		}
		return nil
	}}
	hook := webhookAlert("hook", config.AlertCondition{Kind: config.AlertRunDeadLettered, Count: 1, Window: time.Hour}, time.Hour)
	mail := &config.Alert{Name: "mail", Cooldown: time.Hour, When: config.AlertCondition{Kind: config.AlertRunDeadLettered, Count: 1, Window: time.Hour},
		Notify: config.AlertNotify{Connection: "smtp", Channel: "smtp", To: []string{"ops@example.com"}, Subject: "DLQ"}}
	e, err := New(context.Background(), Options{KV: kv, Actions: acts, Logger: quiet, Alerts: []*config.Alert{hook, mail},
		Tick: 10 * time.Millisecond, RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	t.Cleanup(func() { e.Close() })
	e.RunFinished("w", "run_1", true, true, false, "task send: HTTP 500")
	e.RunFinished("w", "run_2", true, true, true, "a test run is not traffic")
	deadline := time.Now().Add(10 * time.Second)
	for len(acts.sent()) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	calls := acts.sent()
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3 (one retried): %+v", len(calls), calls)
	}
	var hookCalls, mailCalls []sentCall
	for _, c := range calls {
		if c.action == "post" {
			hookCalls = append(hookCalls, c)
		} else {
			mailCalls = append(mailCalls, c)
		}
	}
	if len(hookCalls) != 2 || hookCalls[0].key != hookCalls[1].key || hookCalls[0].key != "alert/hook/1" {
		t.Fatalf("webhook calls %+v, want two attempts under alert/hook/1", hookCalls)
	}
	body := hookCalls[1].input["body"].(map[string]any)
	if body["status"] != "firing" || body["alert"] != "hook" || body["occurrences"] != 1.0 ||
		!strings.Contains(body["text"].(string), "[FIRING] hook:") || !strings.Contains(body["text"].(string), "run run_1 of w was dead-lettered: task send: HTTP 500") {
		t.Errorf("webhook body %+v", body)
	}
	m := mailCalls[0]
	if m.action != "send_email" || m.conn != "smtp" || m.input["subject"] != "[FIRING] DLQ" || m.input["to"].([]any)[0] != "ops@example.com" {
		t.Errorf("email %+v", m)
	}
	waitStatus := func() Status {
		for time.Now().Before(deadline) {
			s := e.Status()
			if len(s.Recent) == 2 && s.Recent[0].Delivery != "queued" && s.Recent[1].Delivery != "queued" {
				return s
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatal("notices not delivered")
		return Status{}
	}
	for _, n := range waitStatus().Recent {
		if n.Delivery != "sent" {
			t.Errorf("notice %+v", n)
		}
	}
}

// TestSignalsNeverBlock: with nothing draining the queue, signals beyond
// its size are dropped and counted, and the call returns at once.
func TestSignalsNeverBlock(t *testing.T) {
	kv := openKV(t, t.TempDir()).KV()
	e, err := New(context.Background(), Options{KV: kv, Actions: &fakeActions{}, Logger: quiet, QueueSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	// With no alert configured, nothing is even queued.
	for range 10 {
		e.AuthRefused("in", "unauthorized", 1)
	}
	if got := e.Dropped(); got != 0 || len(e.signals) != 0 {
		t.Errorf("no alerts: dropped %d, queued %d; want nothing", got, len(e.signals))
	}
	def := webhookAlert("a", config.AlertCondition{Kind: config.AlertAuthFailures, Count: 1, Window: time.Minute}, time.Minute)
	if err := e.Replace(context.Background(), []*config.Alert{def}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		e.AuthRefused("in", "unauthorized", 1)
	}
	if got := e.Dropped(); got != 6 {
		t.Errorf("dropped %d, want 6", got)
	}
}
