package jetstream

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// BenchmarkAppendC64 is 64 concurrent appenders of one 1.1 KB event each,
// every call waiting for its acknowledgement, on Badger (group commit,
// fsync), a one-server JetStream stream (R1) and a three-server one (R3)
// on loopback, all in this process. It reports events/s and the p50 and
// p99 latency of one Append; it asserts no time. "dedup" gives every event
// a dedup key, as most pushed events have (one more read per append on
// JetStream). Numbers are in doc.go; run it with a fixed count:
//
//	go test -run '^$' -bench AppendC64 -benchtime 20000x ./core/store/jetstream
func BenchmarkAppendC64(b *testing.B) {
	payload := json.RawMessage(`{"type":"track","event":"Order Completed","properties":{"pad":"` + strings.Repeat("x", 1000) + `"}}`)
	setups := []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"badger", func(b *testing.B) store.Store {
			s, err := store.Open(context.Background(), b.TempDir(), store.Options{Logger: quiet, SecretKey: testKey})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			return s
		}},
		{"jetstream-R1", func(b *testing.B) store.Store {
			c := natstest.Start(b, b.TempDir(), 1, natstest.Options{})
			b.Cleanup(c.Shutdown)
			return openOn(b, c, 1)
		}},
		{"jetstream-R3", func(b *testing.B) store.Store {
			c := natstest.Start(b, b.TempDir(), 3, natstest.Options{})
			b.Cleanup(c.Shutdown)
			return openOn(b, c, 3)
		}},
	}
	for _, dedup := range []bool{false, true} {
		for _, setup := range setups {
			b.Run(fmt.Sprintf("%s/dedup=%v", setup.name, dedup), func(b *testing.B) {
				benchAppend(b, setup.open(b), payload, dedup)
			})
		}
	}
}

func benchAppend(b *testing.B, s store.Store, payload json.RawMessage, dedup bool) {
	const workers = 64
	var next atomic.Int64
	lat := make([][]time.Duration, workers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				req := store.AppendRequest{Connection: "seg", Type: "track", Payload: payload}
				if dedup {
					req.DedupKey = fmt.Sprintf("msg-%d", i)
				}
				t0 := time.Now()
				if _, err := s.Log().Append(context.Background(), []store.AppendRequest{req}); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "events/s")
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkRead reads the log from the start in pages of 1000, as the
// dispatcher does when it catches up, and reports events/s.
func BenchmarkRead(b *testing.B) {
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("R%d", n), func(b *testing.B) {
			c := natstest.Start(b, b.TempDir(), n, natstest.Options{})
			b.Cleanup(c.Shutdown)
			s := openOn(b, c, n)
			reqs := make([]store.AppendRequest, 500)
			for i := range reqs {
				reqs[i] = store.AppendRequest{Connection: "c", Payload: json.RawMessage(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)}
			}
			for range 20 {
				if _, err := s.Log().Append(context.Background(), reqs); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			start, read := time.Now(), 0
			for range b.N {
				for after := uint64(0); ; {
					evs, err := s.Log().Read(context.Background(), after, 1000)
					if err != nil {
						b.Fatal(err)
					}
					if len(evs) == 0 {
						break
					}
					read += len(evs)
					after = evs[len(evs)-1].Seq
				}
			}
			b.ReportMetric(float64(read)/time.Since(start).Seconds(), "events/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
