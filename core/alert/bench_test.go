package alert

import (
	"context"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
)

// BenchmarkRunFinished measures what reporting a finished run costs the
// worker that finished it, with the engine running and evaluating a
// runs_failed alert on the other side of the queue. It reports, never
// asserts: %dropped says how much faster than the evaluation a worker
// can report (far beyond any real run rate), which is what dropping keeps
// off the worker.
func BenchmarkRunFinished(b *testing.B) {
	st := openKV(b, b.TempDir())
	def := webhookAlert("a", config.AlertCondition{Kind: config.AlertRunsFailed, Workflow: "w", Ratio: 0.99, MinRuns: 1000, Window: time.Minute}, time.Hour)
	e, err := New(context.Background(), Options{KV: st.KV(), Alerts: []*config.Alert{def}, Actions: &fakeActions{}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	e.Start(context.Background())
	b.Cleanup(func() { e.Close() })
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		e.RunFinished("w", "run_x", i%10 == 0, false, false, "task send: HTTP 500")
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signals/s")
	b.ReportMetric(float64(e.Dropped())/float64(b.N)*100, "%dropped")
}

// BenchmarkEvaluate measures the evaluation side: one signal applied to
// ten alerts, one of which it concerns.
func BenchmarkEvaluate(b *testing.B) {
	st := openKV(b, b.TempDir())
	var defs []*config.Alert
	for i := range 10 {
		wf := "other"
		if i == 0 {
			wf = "w"
		}
		defs = append(defs, webhookAlert(string(rune('a'+i)), config.AlertCondition{Kind: config.AlertRunsFailed, Workflow: wf, Ratio: 0.99, MinRuns: 1000, Window: time.Minute}, time.Hour))
	}
	e, err := New(context.Background(), Options{KV: st.KV(), Alerts: defs, Actions: &fakeActions{}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	now := t0
	s := signal{kind: sigRun, workflow: "w", failed: true, n: 1, detail: "run x failed"}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		e.mu.Lock()
		e.handle(ctx, s, now.Add(time.Duration(i)*time.Microsecond))
		e.mu.Unlock()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "signals/s")
}
