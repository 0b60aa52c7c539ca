package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadResult is what the clients saw.
type loadResult struct {
	elapsed  time.Duration
	sent     int64 // requests answered with the wanted status
	failed   int64 // transport errors and other statuses
	statuses map[int]int64
	lastErr  error
	lat      []time.Duration // of the sent, sorted
}

func (r loadResult) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p * float64(len(r.lat)-1))
	return r.lat[i]
}

// drive posts the track event from conc clients, each one request at a time,
// until dur has passed or ctx ends. A request counts as sent when answered
// with want (the hub's 202, the peer's 200).
func drive(ctx context.Context, url string, conc int, dur time.Duration, want int) loadResult {
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc, DisableCompression: true},
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()

	type worker struct {
		lat      []time.Duration
		failed   int64
		statuses map[int]int64
		lastErr  error
	}
	workers := make([]worker, conc)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		w := &workers[i]
		w.statuses = map[int]int64{}
		w.lat = make([]time.Duration, 0, 1<<14)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(trackEvent))
				if err != nil {
					w.lastErr = err
					w.failed++
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", apiKey)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						w.lastErr = err
						w.failed++
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				w.statuses[resp.StatusCode]++
				if resp.StatusCode != want {
					w.failed++
					continue
				}
				w.lat = append(w.lat, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	res := loadResult{elapsed: time.Since(start), statuses: map[int]int64{}}
	for _, w := range workers {
		res.lat = append(res.lat, w.lat...)
		res.failed += w.failed
		for s, n := range w.statuses {
			res.statuses[s] += n
		}
		if w.lastErr != nil {
			res.lastErr = w.lastErr
		}
	}
	res.sent = int64(len(res.lat))
	slices.Sort(res.lat)
	return res
}

// report is the harness's output.
type report struct {
	label                     string
	round                     int // 0, or 1 for the A/A repeat
	bare, peer                bool
	profiles                  string
	cpuUser, cpuSys           time.Duration // the server's, while the clients sent
	commits, commitOps        float64       // the store's group commits meanwhile
	commitSecs                float64
	conc                      int
	dur                       time.Duration
	load                      loadResult
	lagEnd, lagMax            int64
	lagErr                    error
	drained                   time.Duration
	rssStart, rssPeak, rssEnd int64 // KiB
	anonEnd, fileEnd          int64
	settle                    time.Duration
	rssSettled                int64
	anonSettled, fileSettled  int64
	// truth is what the server holds after the run (-1: not read): events
	// the hub accepted into its log, or records in the peer's event file;
	// matched is the peer's mapped events (the filter should keep none).
	truth, matched int64
	truthErr       error
}

func (r report) print(w io.Writer) {
	l := r.load
	secs := l.elapsed.Seconds()
	fmt.Fprintf(w, "clients        %d for %s (measured %.1fs)\n", r.conc, r.dur, secs)
	fmt.Fprintf(w, "accepted       %d (%.0f req/s)\n", l.sent, float64(l.sent)/secs)
	fmt.Fprintf(w, "failed         %d (statuses %v)\n", l.failed, l.statuses)
	if l.lastErr != nil {
		fmt.Fprintf(w, "last error     %v\n", l.lastErr)
	}
	fmt.Fprintf(w, "latency        p50 %s  p90 %s  p99 %s  max %s\n",
		ms(l.percentile(0.50)), ms(l.percentile(0.90)), ms(l.percentile(0.99)), ms(l.percentile(1)))
	if r.commits > 0 {
		fmt.Fprintf(w, "store commits  %.0f/s, %.1f ops and %.2fms each, committing %.0f%% of the time\n",
			r.commits/secs, r.commitOps/r.commits, 1000*r.commitSecs/r.commits, 100*r.commitSecs/secs)
	}
	if r.cpuUser+r.cpuSys > 0 {
		fmt.Fprintf(w, "server CPU     %.1fs user + %.1fs system = %.2f cores, %.0f µs per accepted request\n",
			r.cpuUser.Seconds(), r.cpuSys.Seconds(), (r.cpuUser+r.cpuSys).Seconds()/secs, r.cpuPerRequest())
	}
	switch {
	case r.truthErr != nil:
		fmt.Fprintf(w, "ground truth   unknown: %v\n", r.truthErr)
	case r.peer && r.truth >= 0:
		fmt.Fprintf(w, "ground truth   %d records in the event file for %d answered 200 (%+d), %d matched the filter\n",
			r.truth, l.sent, r.truth-l.sent, r.matched)
	case r.truth >= 0:
		fmt.Fprintf(w, "ground truth   %d events accepted into the log for %d answered 202 (%+d)\n", r.truth, l.sent, r.truth-l.sent)
	}
	switch {
	case r.bare, r.peer:
	case r.lagErr != nil:
		fmt.Fprintf(w, "log lag        unknown: %v\n", r.lagErr)
	default:
		drain := "did not drain in 30s"
		if r.drained >= 0 {
			drain = fmt.Sprintf("drained in %s", r.drained.Round(100*time.Millisecond))
		}
		fmt.Fprintf(w, "log lag        at end %d, max sampled %d, %s\n", r.lagEnd, r.lagMax, drain)
	}
	fmt.Fprintf(w, "hub RSS        start %s, peak %s, end %s (anon %s, file %s)\n",
		mib(r.rssStart), mib(r.rssPeak), mib(r.rssEnd), mib(r.anonEnd), mib(r.fileEnd))
	if r.profiles != "" {
		fmt.Fprintf(w, "profiles       %s\n", r.profiles)
	}
	if r.settle > 0 {
		fmt.Fprintf(w, "hub RSS idle   %s after %s (anon %s, file %s)\n", mib(r.rssSettled), r.settle, mib(r.anonSettled), mib(r.fileSettled))
	}
}

// cpuPerRequest is the server's CPU time per accepted request, in µs.
func (r report) cpuPerRequest() float64 {
	if r.load.sent == 0 {
		return 0
	}
	return float64((r.cpuUser+r.cpuSys)/time.Microsecond) / float64(r.load.sent)
}

func (r report) rate() float64 {
	if r.load.elapsed <= 0 {
		return 0
	}
	return float64(r.load.sent) / r.load.elapsed.Seconds()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func mib(kb int64) string { return fmt.Sprintf("%.0f MiB", float64(kb)/1024) }
