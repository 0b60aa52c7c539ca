package schedule

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
)

func TestSync(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	clk := newFakeClock(time.Date(2025, 1, 6, 10, 0, 0, 0, time.UTC))
	s := New(Options{KV: st.KV(), Clock: clk, Timezone: "UTC", Logger: quiet})
	ctx := context.Background()
	noop := func(context.Context, time.Time) error { return nil }
	hourly, daily := &config.Schedule{Every: time.Hour}, &config.Schedule{Every: 24 * time.Hour}
	for _, w := range []Want{{"connection/kept", hourly, noop}, {"connection/changed", hourly, noop}, {"workflow/gone", hourly, noop}} {
		if err := s.Add(ctx, w.Key, w.Sched, w.Run); err != nil {
			t.Fatal(err)
		}
	}
	keptNext, _ := s.Next("connection/kept")
	clk.Set(clk.Now().Add(10 * time.Minute))

	wants := []Want{{"connection/kept", hourly, noop}, {"connection/changed", daily, noop}, {"workflow/new", daily, noop}}
	if err := s.Check(append(wants, Want{"workflow/bad", &config.Schedule{Cron: "not a cron"}, noop})); err == nil {
		t.Error("Check accepted an invalid cron")
	}
	if err := s.Sync(ctx, wants); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range s.Status() {
		keys = append(keys, e.Key+"="+strings.Fields(e.Schedule)[1])
	}
	want := []string{"connection/changed=24h0m0s", "connection/kept=1h0m0s", "workflow/new=24h0m0s"}
	if !slices.Equal(keys, want) {
		t.Errorf("entries = %v, want %v", keys, want)
	}
	if next, _ := s.Next("connection/kept"); !next.Equal(keptNext) {
		t.Errorf("unchanged schedule moved its next run from %s to %s", keptNext, next)
	}
}
