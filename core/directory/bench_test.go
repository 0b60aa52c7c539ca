package directory

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
)

// BenchmarkUpsert measures upserts per second on a durable (on-disk,
// synced) Badger store, with 8 callers per CPU as a busy engine would have:
// "new" creates a contact per call (claim, then record), "update" changes
// the embedded data of 1000 existing contacts, "transaction" adds a
// transaction with an idempotency key to existing contacts.
func BenchmarkUpsert(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []string{"new", "update", "transaction"} {
		b.Run(mode, func(b *testing.B) {
			s := New(openStore(b, b.TempDir()), []*config.Directory{dirCfg("POOL_b")})
			const known = 1000
			if mode != "new" {
				for i := range known {
					if _, _, err := s.Upsert(ctx, "POOL_b", ContactInput{Email: fmt.Sprintf("p%d@example.com", i)}); err != nil {
						b.Fatal(err)
					}
				}
			}
			var seq atomic.Int64
			b.SetParallelism(8)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					var err error
					switch mode {
					case "new":
						_, _, err = s.Upsert(ctx, "POOL_b", ContactInput{Email: fmt.Sprintf("n%d@example.com", i), FirstName: "N", Embedded: map[string]any{"i": i}})
					case "update":
						_, _, err = s.Upsert(ctx, "POOL_b", ContactInput{Email: fmt.Sprintf("p%d@example.com", i%known), Embedded: map[string]any{"i": i}})
					case "transaction":
						_, err = s.AddTransaction(ctx, "POOL_b", ContactInput{Email: fmt.Sprintf("p%d@example.com", i%known)},
							TxInput{Data: map[string]any{"amount": i}}, fmt.Sprintf("run_%d/save", i))
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "upserts/s")
		})
	}
}
