package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// profiler takes one hub run's profiles through its --pprof listener: a CPU
// profile over the middle of the run (after a warm-up, before the clients
// stop) and the allocation profile at the end.
type profiler struct {
	h     *hub
	dir   string
	label string
	cpu   chan string
}

func startProfiles(ctx context.Context, h *hub, dir, label string, dur time.Duration) *profiler {
	p := &profiler{h: h, dir: dir, label: label, cpu: make(chan string, 1)}
	if dir == "" || h.pprof == "" {
		p.cpu <- ""
		return p
	}
	warm := min(dur/4, 10*time.Second)
	secs := max(int((dur - warm - 2*time.Second).Seconds()), 1)
	secs = min(secs, 30)
	go func() {
		select {
		case <-ctx.Done():
			p.cpu <- ""
			return
		case <-time.After(warm):
		}
		url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", h.pprof, secs)
		p.cpu <- p.save(url, "cpu", time.Duration(secs+30)*time.Second)
	}()
	return p
}

// wait waits for the CPU profile, takes the allocation profile and says
// where both were written.
func (p *profiler) wait() string {
	cpu := <-p.cpu
	if p.dir == "" || p.h.pprof == "" {
		return ""
	}
	allocs := p.save("http://"+p.h.pprof+"/debug/pprof/allocs", "allocs", 30*time.Second)
	return strings.TrimSpace(cpu + " " + allocs)
}

func (p *profiler) save(url, kind string, timeout time.Duration) string {
	client := &http.Client{Timeout: timeout}
	resp, err := client.Get(url)
	if err != nil {
		return fmt.Sprintf("(%s profile: %v)", kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("(%s profile: %s)", kind, resp.Status)
	}
	name := filepath.Join(p.dir, safeLabel(p.label)+"-"+kind+".pprof")
	f, err := os.Create(name)
	if err != nil {
		return fmt.Sprintf("(%s profile: %v)", kind, err)
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		return fmt.Sprintf("(%s profile: %v)", kind, err)
	}
	return name
}

func safeLabel(l string) string {
	return strings.NewReplacer("'", "2", "/", "_", " ", "_").Replace(l)
}

// printSummary prints one line per run (with the server's CPU time per
// accepted request, the figure least disturbed by other load on the machine)
// with its ratio to the first run and,
// when the bare baseline ran, each hub run's ratio to the bare run of the
// same round (A/A rounds are compared within themselves, as the machine's
// load drifts between them). With the peer, each hub run is also shown as a
// ratio of the peer run of the same round: the "≥ 2× Benthos".
func printSummary(w io.Writer, rs []report) {
	bareOf, peerOf := map[int]*report{}, map[int]*report{}
	for i := range rs {
		switch {
		case rs[i].bare:
			bareOf[rs[i].round] = &rs[i]
		case rs[i].peer:
			peerOf[rs[i].round] = &rs[i]
		}
	}
	fmt.Fprintf(w, "\n== summary (c%d, %s each, back to back)\n", rs[0].conc, rs[0].dur)
	fmt.Fprintf(w, "%-9s %9s %8s %8s %8s %9s %8s %9s %9s %9s\n", "run", "req/s", "p50", "p99", "max", "RSS end", "CPU µs", "/first", "/bare", "/peer")
	first := rs[0].rate()
	for _, r := range rs {
		hubRun := !r.bare && !r.peer
		fmt.Fprintf(w, "%-9s %9.0f %8s %8s %8s %9s %8.0f %9.2f %9s %9s\n", r.label, r.rate(),
			ms(r.load.percentile(0.5)), ms(r.load.percentile(0.99)), ms(r.load.percentile(1)),
			mib(r.rssEnd), r.cpuPerRequest(), r.rate()/first,
			ratioTo(r, bareOf[r.round], !r.bare), ratioTo(r, peerOf[r.round], hubRun))
	}
}

// ratioTo is r's request rate as a fraction of base's, or "-" when there is
// no base run or the ratio does not apply to r.
func ratioTo(r report, base *report, applies bool) string {
	if !applies || base == nil || base.rate() <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", r.rate()/base.rate())
}
