package lease

import (
	"context"
	"testing"
)

// BenchmarkDo is one acquire (token CAS, SetNX, token check) and release of
// an uncontended lease, the store writes a scheduled slot or a fetch job
// adds to its work.
func BenchmarkDo(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			kv := be.open(b)
			l := New(Options{KV: kv, Logger: quiet})
			ctx := context.Background()
			for b.Loop() {
				ran, err := l.Do(ctx, "bench", func(context.Context, uint64) error { return nil })
				if err != nil || !ran {
					b.Fatalf("Do = %v, %v", ran, err)
				}
			}
		})
	}
}
