package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/hub"

	_ "github.com/junctionhub/junction/builtin/webhook"
)

// timingSink records when each order reached it.
type timingSink struct {
	mu      sync.Mutex
	arrived map[string]time.Time
	n       atomic.Int64
}

func (s *timingSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	now := time.Now()
	i := bytes.Index(body, []byte(`"order":"`))
	if i >= 0 {
		rest := body[i+9:]
		id := string(rest[:bytes.IndexByte(rest, '"')])
		s.mu.Lock()
		if _, dup := s.arrived[id]; !dup {
			s.arrived[id] = now
			s.n.Add(1)
		}
		s.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

// BenchmarkIngestEndToEnd measures HTTP → synced log → workflow → outbound
// webhook to a loopback sink, with concurrent senders. It reports the ack
// rate (events/s), ack latency percentiles, and delivery latency (post to
// sink) percentiles.
func BenchmarkIngestEndToEnd(b *testing.B) {
	for _, conc := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("senders=%d", conc), func(b *testing.B) { benchIngest(b, conc, "order") })
	}
}

// BenchmarkIngestAck measures the inbound path alone: HTTP → connector →
// synced log → 202. The events' kind fails the workflow's filter, so the
// dispatcher reads them but no run or outbound call follows.
func BenchmarkIngestAck(b *testing.B) {
	for _, conc := range []int{16, 64, 256} {
		b.Run(fmt.Sprintf("senders=%d", conc), func(b *testing.B) { benchIngest(b, conc, "refund") })
	}
}

func benchIngest(b *testing.B, conc int, kind string) { benchIngestWith(b, conc, kind, nil) }

// processCPU is the user and system CPU time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchIngestWith is benchIngest; attach, when set, is called with the
// hub's base URL before the load starts (a tap reader attaches there).
func benchIngestWith(b *testing.B, conc int, kind string, attach func(base string)) {
	sinkLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	sk := &timingSink{arrived: map[string]time.Time{}}
	sinkSrv := &http.Server{Handler: sk}
	go sinkSrv.Serve(sinkLn)
	defer sinkSrv.Close()

	dir := b.TempDir()
	cfg, err := os.ReadFile("testdata/spine/hub.yaml")
	if err != nil {
		b.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "hub.yaml"), cfg, 0o644)
	env := map[string]string{"ORDERS_API_KEY": "k", "SINK_URL": "http://" + sinkLn.Addr().String() + "/x", "SINK_SECRET": "s", "JUNCTION_ADMIN_TOKEN": "t"}
	ctx, cancel := context.WithCancel(context.Background())
	h, err := hub.Open(ctx, hub.Options{
		ConfigPaths: []string{dir}, DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		b.Fatal(err)
	}
	addr, err := h.Listen()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if attach != nil {
		attach("http://" + addr.String())
	}
	url := "http://" + addr.String() + "/hooks/orders-in"
	pad := strings.Repeat("x", 900) // ~1 KB events
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}

	sent := make([]time.Time, b.N)
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := processCPU()
	start := time.Now()
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= b.N {
					return
				}
				body := fmt.Sprintf(`{"kind":%q,"id":"o%d","total":"%d.5","note":"%s"}`, kind, i, i, pad)
				t0 := time.Now()
				req, _ := http.NewRequest("POST", url, strings.NewReader(body))
				req.Header.Set("X-API-Key", "k")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				sent[i], lat[i] = t0, time.Since(t0)
			}
		}()
	}
	wg.Wait()
	ackElapsed := time.Since(start)
	// CPU time per acknowledged event (hub, senders and any tap reader: one
	// process) says what a change costs even on a machine whose other
	// load makes events/s swing.
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/event")
	if kind != "order" {
		b.StopTimer()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(b.N)/ackElapsed.Seconds(), "acked-events/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ack-p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ack-p99-ms")
		return
	}
	deadline := time.Now().Add(2 * time.Minute)
	for sk.n.Load() < int64(b.N) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	allElapsed := time.Since(start)
	b.StopTimer()
	if sk.n.Load() < int64(b.N) {
		b.Fatalf("only %d of %d events reached the sink", sk.n.Load(), b.N)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	deliver := make([]time.Duration, 0, b.N)
	sk.mu.Lock()
	for i := 0; i < b.N; i++ {
		deliver = append(deliver, sk.arrived[fmt.Sprintf("o%d", i)].Sub(sent[i]))
	}
	sk.mu.Unlock()
	sort.Slice(deliver, func(i, j int) bool { return deliver[i] < deliver[j] })
	pct := func(d []time.Duration, p float64) float64 {
		return float64(d[int(float64(len(d)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/ackElapsed.Seconds(), "acked-events/s")
	b.ReportMetric(float64(b.N)/allElapsed.Seconds(), "delivered-events/s")
	b.ReportMetric(pct(lat, 0.5), "ack-p50-ms")
	b.ReportMetric(pct(lat, 0.99), "ack-p99-ms")
	b.ReportMetric(pct(deliver, 0.5), "deliver-p50-ms")
	b.ReportMetric(pct(deliver, 0.99), "deliver-p99-ms")
}
