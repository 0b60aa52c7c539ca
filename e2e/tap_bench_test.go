package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkIngestTap compares the inbound path (HTTP → synced log → 202,
// as BenchmarkIngestAck) with nobody watching and with `junction tap`'s
// stream attached to the connection and read over loopback. Compare
// acked-events/s of the two; tapped-events says what the reader saw (the
// events only, not the refused runs: the events fail the filter) and
// tap-dropped whether it was dropped for falling behind.
func BenchmarkIngestTap(b *testing.B) {
	const conc = 64
	for _, watched := range []bool{false, true} {
		b.Run(fmt.Sprintf("tap=%v", watched), func(b *testing.B) {
			var seen, dropped atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var attach func(string)
			if watched {
				attach = func(base string) {
					ready := make(chan struct{})
					go readTap(ctx, b, base, ready, &seen, &dropped)
					select {
					case <-ready:
					case <-time.After(30 * time.Second):
						b.Fatal("the tap did not attach")
					}
				}
			}
			benchIngestWith(b, conc, "refund", attach)
			if watched {
				b.ReportMetric(float64(seen.Load()), "tapped-events")
				b.ReportMetric(float64(dropped.Load()), "tap-dropped")
			}
		})
	}
}

// readTap reads the tap of orders-in until ctx ends, counting events.
func readTap(ctx context.Context, b *testing.B, base string, ready chan<- struct{}, seen, dropped *atomic.Int64) {
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/tap?connection=orders-in", nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	last := ""
	for sc.Scan() {
		switch l := sc.Text(); {
		case l == "event: ready":
			close(ready)
		case l == "event: event":
			seen.Add(1)
		case strings.HasPrefix(l, "event: "):
			last = strings.TrimPrefix(l, "event: ")
		case last == "dropped" && strings.Contains(l, "fell behind"):
			// The hub's shutdown at the end ends the stream too; only
			// falling behind counts.
			dropped.Add(1)
		}
	}
}
