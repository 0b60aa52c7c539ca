package s3

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/internal/records/fetchtest"
	"github.com/junctionhub/junction/builtin/s3/s3test"
	"github.com/junctionhub/junction/pluginsdk"
)

// importAll fetches every batch of "profiles" without storing them and
// returns the number of events.
func importAll(b *testing.B, cfg json.RawMessage) int64 {
	b.Helper()
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "bench", Config: cfg, Auth: keyAuth}); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var cursor []byte
	var n int64
	for {
		res, err := c.Fetch(context.Background(), &pluginsdk.FetchRequest{Entity: "profiles", Cursor: cursor, Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		n += int64(len(res.Events))
		cursor = res.Cursor
		if !res.More {
			return n
		}
	}
}

// benchServer serves a generated CSV of about size bytes at
// inbound/gen.csv, stored nowhere.
func benchServer(b *testing.B, size int64) (*s3test.Server, fetchtest.GenCSV) {
	b.Helper()
	srv := s3test.Start(b, testBucket)
	gen := fetchtest.GenCSV{Rows: fetchtest.RowsFor(size)}
	srv.AddVirtual(testBucket, "inbound/gen.csv", &s3test.Virtual{Size: gen.Size(), ReaderAt: gen})
	return srv, gen
}

// BenchmarkImportCSV imports a 64 MB CSV object over loopback HTTP: the
// check pass and the import pass, JSON payloads built, nothing stored.
func BenchmarkImportCSV(b *testing.B) {
	srv, gen := benchServer(b, 64<<20)
	cfg := baseConfig(srv, nil)
	b.SetBytes(gen.Size())
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if n := importAll(b, cfg); n != gen.Rows {
			b.Fatalf("imported %d rows, want %d", n, gen.Rows)
		}
	}
	b.ReportMetric(float64(gen.Rows)*float64(b.N)/time.Since(start).Seconds(), "rows/s")
}

// BenchmarkImportMemory imports a 1 MB and a 1 GB CSV object and reports
// the peak in-use heap: it must not grow with the object. The 1 GB case is
// skipped with -short.
func BenchmarkImportMemory(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int64
	}{{"1MB", 1 << 20}, {"1GB", 1 << 30}} {
		b.Run(size.name, func(b *testing.B) {
			if size.bytes > 1<<20 && testing.Short() {
				b.Skip("1 GB import skipped with -short")
			}
			srv, gen := benchServer(b, size.bytes)
			cfg := baseConfig(srv, nil)
			b.SetBytes(gen.Size())
			b.ResetTimer()
			var peak, after uint64
			for range b.N {
				peak, after = fetchtest.HeapPeak(func() {
					if n := importAll(b, cfg); n != gen.Rows {
						b.Fatalf("imported %d rows, want %d", n, gen.Rows)
					}
				})
			}
			b.ReportMetric(float64(peak)/(1<<20), "heap-peak-MB")
			b.ReportMetric(float64(after)/(1<<20), "heap-after-MB")
		})
	}
}
