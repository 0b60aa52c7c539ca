package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchPayload is a 1 KB Segment-like track event.
func benchPayload() []byte {
	head := `{"type":"track","event":"Order Completed","userId":"u-1234567","context":{"traits":{"email":"jane@example.com"}},"properties":{"revenue":42.5,"pad":"`
	tail := `"}}`
	return []byte(head + strings.Repeat("x", 1024-len(head)-len(tail)) + tail)
}

// runAppendBench runs b.N events through Append from conc goroutines, perCall
// events a call, and reports throughput and call latency percentiles.
func runAppendBench(b *testing.B, conc, perCall int, dedup bool) {
	s, err := Open(context.Background(), b.TempDir(), testOptions())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	payload := benchPayload()
	calls := (b.N + perCall - 1) / perCall
	var next atomic.Int64
	lat := make([][]time.Duration, conc)
	var wg sync.WaitGroup
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqs := make([]AppendRequest, perCall)
			for {
				c := next.Add(1) - 1
				if c >= int64(calls) {
					return
				}
				for i := range reqs {
					reqs[i] = AppendRequest{Connection: "bench", Type: "track", Payload: payload}
					if dedup {
						reqs[i].DedupKey = fmt.Sprintf("m-%d-%d", c, i)
					}
				}
				t := time.Now()
				if _, err := s.Log().Append(context.Background(), reqs); err != nil {
					b.Error(err)
					return
				}
				lat[g] = append(lat[g], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()

	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(calls*perCall)/elapsed.Seconds(), "events/s")
	if n := s.commit.stats.commits.Load(); n > 0 {
		b.ReportMetric(float64(s.commit.stats.ops.Load())/float64(n), "ops/commit")
		b.ReportMetric(float64(s.commit.stats.nanos.Load())/float64(n)/1e3, "commit-µs")
	}
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkLogAppend measures synced appends of one 1 KB event per call:
// group commit should make throughput grow with the number of callers.
func BenchmarkLogAppend(b *testing.B) {
	for _, conc := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			runAppendBench(b, conc, 1, false)
		})
	}
	// Segment and Salesforce events carry a dedup key: one more read and
	// write per event.
	b.Run("conc=256/dedup", func(b *testing.B) {
		runAppendBench(b, 256, 1, true)
	})
}

// BenchmarkLogAppendBatch measures calls of 100 events (a Segment batch, a
// page of a pulled file).
func BenchmarkLogAppendBatch(b *testing.B) {
	for _, conc := range []int{1, 16} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			runAppendBench(b, conc, 100, false)
		})
	}
}
