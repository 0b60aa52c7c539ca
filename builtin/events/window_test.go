package events

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
)

// appendSpaced appends n events of conns in turn, received step apart from
// base, in batches (as a fetch does), and returns the retimed log.
func appendSpaced(tb testing.TB, st store.Store, n int, base time.Time, step time.Duration, conns ...string) *retimed {
	tb.Helper()
	r := &retimed{Log: st.Log(), at: make(map[uint64]time.Time, n)}
	const batch = 1000
	for start := 0; start < n; start += batch {
		reqs := make([]store.AppendRequest, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			reqs = append(reqs, store.AppendRequest{Connection: conns[i%len(conns)], Type: "profiles",
				Payload: json.RawMessage(fmt.Sprintf(`{"file":"/in/big.csv","line":%d,"entity":"profiles","record":{"email":"u%d@example.com","plan":"gold"}}`, i+2, i))})
		}
		res, err := st.Log().Append(context.Background(), reqs)
		if err != nil {
			tb.Fatal(err)
		}
		for j, rr := range res {
			r.at[rr.Seq] = base.Add(time.Duration(start+j) * step)
		}
	}
	return r
}

func TestSeekFindsTheFirstEventAtOrAfter(t *testing.T) {
	const n = 5000
	base := clock("00:00:00")
	lg := appendSpaced(t, openStore(t), n, base, time.Second, "partner")
	maxProbes := bits.Len(n) + 1
	for _, tt := range []struct {
		t    time.Time
		want uint64 // events up to this sequence are before t
	}{
		{base.Add(-time.Hour), 0},
		{base, 0},
		{base.Add(time.Millisecond), 1},
		{base.Add(1234 * time.Second), 1234},
		{base.Add(1234*time.Second + 1), 1235},
		{base.Add((n - 1) * time.Second), n - 1},
		{base.Add(n * time.Second), n},
	} {
		got, probes, err := seek(context.Background(), lg, tt.t)
		if err != nil || got != tt.want {
			t.Errorf("seek(%s) = %d, %v; want %d", tt.t.Format(time.TimeOnly), got, err, tt.want)
		}
		if probes > maxProbes {
			t.Errorf("seek(%s) read the log %d times, want at most %d (a binary search)", tt.t.Format(time.TimeOnly), probes, maxProbes)
		}
	}
	if got, probes, err := seek(context.Background(), appendEvents(t, openStore(t), nil), base); got != 0 || probes != 0 || err != nil {
		t.Errorf("seek on an empty log = %d, %d probes, %v", got, probes, err)
	}
}

// TestScanReadsOnlyAroundTheWindow checks the cost: the events of the
// window plus Slack each side, not the whole log.
func TestScanReadsOnlyAroundTheWindow(t *testing.T) {
	base := clock("00:00:00")
	lg := appendSpaced(t, openStore(t), 20_000, base, time.Second, "partner", "shop")
	from, to := base.Add(2*time.Hour), base.Add(3*time.Hour)
	in := 0
	scanned, err := scan(context.Background(), lg, from, to, func(ev *event.Event) error { in++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if in != 3600 {
		t.Errorf("%d events in the hour, want 3600", in)
	}
	if want := 3600 + 2*int(Slack/time.Second); scanned > want {
		t.Errorf("scanned %d events, want at most %d (the hour and a minute each side)", scanned, want)
	}
}

// BenchmarkCollect collects one connection's hour from a log of 200k events
// of four connections (a day and a bit at 2 events/s each), over a real
// Badger store.
func BenchmarkCollect(b *testing.B) {
	base := clock("00:00:00")
	lg := appendSpaced(b, openStore(b), 200_000, base, 500*time.Millisecond, "partner", "shop", "lake", "crm")
	x := newTestCollector(lg, testConns(), base.Add(48*time.Hour), nil)
	with := json.RawMessage(`{"connection":"partner","window":"1h","at":"2024-05-01T20:00:00Z","include_source":true}`)
	b.ResetTimer()
	var raw json.RawMessage
	for b.Loop() {
		var err error
		if raw, err = x.Execute(context.Background(), &task.Call{Input: with}); err != nil {
			b.Fatal(err)
		}
	}
	var out output
	if err := json.Unmarshal(raw, &out); err != nil {
		b.Fatal(err)
	}
	if out.Count != 1800 {
		b.Fatalf("%d records, want 1800", out.Count)
	}
	from, to := clock("19:00:00"), clock("20:00:00")
	scanned, err := scan(context.Background(), lg, from, to, func(*event.Event) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(out.Count)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(scanned)*float64(b.N)/b.Elapsed().Seconds(), "events-read/s")
}
