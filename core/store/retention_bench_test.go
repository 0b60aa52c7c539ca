package store

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIngestDuringExpiry compares append latency of 64 concurrent
// callers on a store holding a month-old backlog (200k 1 KB events and 20k
// finished runs) with and without the Expirer removing that backlog at the
// same time. Prefilling takes a while, so run each case once:
//
//	go test ./core/store -run '^$' -bench IngestDuringExpiry -benchtime 300000x
//
// "expired" counts what the sweeps removed, including the part of a sweep
// still running when the appends ended.
func BenchmarkIngestDuringExpiry(b *testing.B) {
	for _, expiring := range []bool{false, true} {
		name := "quiet"
		if expiring {
			name = "expiring"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			clock := &fakeClock{t: time.Now().Add(-30 * 24 * time.Hour)}
			opts := testOptions()
			opts.now = clock.now
			s, err := Open(ctx, b.TempDir(), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			payload := benchPayload()
			batch := make([]AppendRequest, 1000)
			for i := range batch {
				batch[i] = AppendRequest{Connection: "bench", Type: "track", Payload: payload}
			}
			for range 200 {
				if _, err := s.Log().Append(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			for range 40 {
				runs := make([]*Run, 500)
				for i := range runs {
					runs[i] = runAt(clock.now(), StatusCompleted, false)
					runs[i].Input = payload
				}
				if err := s.Runs().Create(ctx, runs, nil); err != nil {
					b.Fatal(err)
				}
			}
			clock.advance(30 * 24 * time.Hour)

			var expired atomic.Int64
			stop := make(chan struct{})
			var sweeping sync.WaitGroup
			if expiring {
				x := s.newExpirer(RetentionPolicy{Events: 24 * time.Hour, Runs: 24 * time.Hour})
				sweeping.Add(1)
				go func() {
					defer sweeping.Done()
					for {
						select {
						case <-stop:
							return
						default:
						}
						sw, err := x.Sweep(ctx)
						if err != nil {
							b.Error(err)
							return
						}
						expired.Add(int64(sw.Events + sw.Runs))
						if sw.Events+sw.Runs == 0 {
							time.Sleep(10 * time.Millisecond)
						}
					}
				}()
			}

			const conc = 64
			var next atomic.Int64
			lat := make([][]time.Duration, conc)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for g := range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					reqs := []AppendRequest{{Connection: "bench", Type: "track", Payload: payload}}
					for next.Add(1) <= int64(b.N) {
						t := time.Now()
						if _, err := s.Log().Append(ctx, reqs); err != nil {
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
			close(stop)
			sweeping.Wait()

			all := slices.Concat(lat...)
			slices.Sort(all)
			if len(all) == 0 {
				return
			}
			b.ReportMetric(float64(len(all))/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(expired.Load()), "expired")
		})
	}
}
