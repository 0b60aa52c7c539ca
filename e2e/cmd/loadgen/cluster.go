package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// -cluster measures ingest on the three store setups of issue 11, back to
// back in one invocation: one node on Badger, one node on an R1 JetStream
// stream (one NATS server), and three nodes on an R3 stream (three NATS
// servers in a cluster), the clients spread evenly over the nodes. The
// NATS servers are e2e/cmd/natsnode processes, so their CPU is measured
// apart from the hubs'. Every process, the clients included, shares this
// machine's cores: the numbers compare the setups on one machine; they do
// not say what three machines would do.

// clusterSetup is one measured store setup.
type clusterSetup struct {
	label    string
	nats     int // NATS servers; 0 for Badger
	hubs     int
	replicas int
	round    int
}

// clusterReport is what one setup's run saw.
type clusterReport struct {
	clusterSetup
	load               loadResult
	hubCPU, natsCPU    time.Duration
	truth              int64
	truthErr           error
	lagEnd             []int64
	drained            time.Duration
	hubRSS, natsRSS    int64 // KiB, summed over the processes at the end
	accepted, perNode  []int64
	conc               int
	dur                time.Duration
	statuses, failures int64
}

func runCluster(ctx context.Context, o options, dir, bin string) error {
	nats := filepath.Join(dir, "natsnode")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", nats, "github.com/junctionhub/junction/e2e/cmd/natsnode")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build natsnode: %w\n%s", err, out)
	}
	plan := []clusterSetup{
		{label: "badger", hubs: 1},
		{label: "js-R1", nats: 1, hubs: 1, replicas: 1},
		{label: "js-R3x3", nats: 3, hubs: 3, replicas: 3},
	}
	if o.aa {
		for _, s := range slices.Clone(plan) {
			s.label += "'"
			s.round = 1
			plan = append(plan, s)
		}
	}
	var reports []clusterReport
	for i, s := range plan {
		if ctx.Err() != nil {
			break
		}
		fmt.Printf("== %s (%d hub(s), %d NATS server(s), replicas %d)\n", s.label, s.hubs, s.nats, s.replicas)
		r, err := measureCluster(ctx, o, s, bin, nats, filepath.Join(dir, fmt.Sprintf("cluster-%d", i)))
		if err != nil {
			return fmt.Errorf("run %s: %w", s.label, err)
		}
		r.print(os.Stdout)
		reports = append(reports, r)
	}
	printClusterSummary(os.Stdout, reports)
	return nil
}

// natsProc is one running natsnode.
type natsProc struct {
	cmd  *exec.Cmd
	out  syncBuf
	done chan error
}

func (p *natsProc) stop() {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func startNATS(bin, dir string, n int) ([]*natsProc, string, error) {
	addrs, err := freeAddrs(2 * n)
	if err != nil {
		return nil, "", err
	}
	var urls, routes []string
	for i := range n {
		urls = append(urls, "nats://"+addrs[i])
		routes = append(routes, "nats://"+addrs[n+i])
	}
	var procs []*natsProc
	for i := range n {
		port := addrs[i][strings.LastIndexByte(addrs[i], ':')+1:]
		args := []string{"-name", fmt.Sprintf("n%d", i+1), "-port", port, "-store", filepath.Join(dir, fmt.Sprintf("nats-%d", i+1))}
		if n > 1 {
			cport := addrs[n+i][strings.LastIndexByte(addrs[n+i], ':')+1:]
			args = append(args, "-cluster-port", cport, "-routes", strings.Join(routes, ","))
		}
		p := &natsProc{cmd: exec.Command(bin, args...), done: make(chan error, 1)}
		p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
		if err := p.cmd.Start(); err != nil {
			for _, q := range procs {
				q.stop()
			}
			return nil, "", fmt.Errorf("start natsnode: %w", err)
		}
		go func() { p.done <- p.cmd.Wait() }()
		procs = append(procs, p)
	}
	return procs, strings.Join(urls, ","), nil
}

func measureCluster(ctx context.Context, o options, s clusterSetup, bin, natsBin, dir string) (clusterReport, error) {
	r := clusterReport{clusterSetup: s, conc: o.conc, dur: o.dur, truth: -1}
	var natsProcs []*natsProc
	settings := o.settings
	if s.nats > 0 {
		procs, url, err := startNATS(natsBin, dir, s.nats)
		if err != nil {
			return r, err
		}
		natsProcs = procs
		defer func() {
			for _, p := range natsProcs {
				p.stop()
			}
		}()
		store := fmt.Sprintf("store: {type: jetstream, url: '%s', replicas: %d, node: '${LOAD_NODE}'}", url, s.replicas)
		if settings != "" {
			settings += ", "
		}
		settings += store
	}
	cfgDir := filepath.Join(dir, "configs")
	if err := writeConfig(cfgDir, settings); err != nil {
		return r, err
	}
	var hubs []*hub
	defer func() {
		for _, h := range hubs {
			h.stop()
		}
	}()
	for i := range s.hubs {
		h, err := startHub(ctx, bin, cfgDir, filepath.Join(dir, fmt.Sprintf("data-%d", i+1)), false,
			fmt.Sprintf("LOAD_NODE=j%d", i+1), "JUNCTION_SECRET_KEY="+strings.Repeat("4a", 32))
		if err != nil {
			return r, err
		}
		hubs = append(hubs, h)
	}
	cpu := func() (hubCPU, natsCPU time.Duration) {
		for _, h := range hubs {
			u, sy := procCPU(h.pid())
			hubCPU += u + sy
		}
		for _, p := range natsProcs {
			u, sy := procCPU(p.cmd.Process.Pid)
			natsCPU += u + sy
		}
		return
	}
	h0, n0 := cpu()
	// The clients, spread evenly over the hubs, all at once.
	results := make([]loadResult, len(hubs))
	var wg sync.WaitGroup
	for i, h := range hubs {
		conc := o.conc / len(hubs)
		if i < o.conc%len(hubs) {
			conc++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = drive(ctx, h.url+"/hooks/segment-in", conc, o.dur, 202)
		}()
	}
	wg.Wait()
	h1, n1 := cpu()
	r.hubCPU, r.natsCPU = h1-h0, n1-n0
	r.load = mergeLoad(results)
	r.truth = 0
	for _, h := range hubs {
		n, err := h.accepted("segment-in")
		if err != nil {
			r.truthErr = err
			break
		}
		r.truth += n
		r.perNode = append(r.perNode, n)
	}
	// The dispatcher is one node; the others read its cursor every few
	// seconds, so each node's lag reaches zero a little later.
	start := time.Now()
	for _, h := range hubs {
		drainTime(ctx, h, 30*time.Second)
	}
	r.drained = time.Since(start)
	for _, h := range hubs {
		n, err := h.lag()
		if err != nil {
			n = -1
		}
		r.lagEnd = append(r.lagEnd, n)
		r.hubRSS += procStatusKB(h.pid(), "VmRSS:")
	}
	for _, p := range natsProcs {
		r.natsRSS += procStatusKB(p.cmd.Process.Pid, "VmRSS:")
	}
	if r.load.sent == 0 {
		return r, fmt.Errorf("no request was answered (last error %v)", r.load.lastErr)
	}
	return r, nil
}

// mergeLoad joins what several groups of clients saw over the same time.
func mergeLoad(rs []loadResult) loadResult {
	out := loadResult{statuses: map[int]int64{}}
	for _, r := range rs {
		out.elapsed = max(out.elapsed, r.elapsed)
		out.failed += r.failed
		out.lat = append(out.lat, r.lat...)
		for s, n := range r.statuses {
			out.statuses[s] += n
		}
		if r.lastErr != nil {
			out.lastErr = r.lastErr
		}
	}
	out.sent = int64(len(out.lat))
	slices.Sort(out.lat)
	return out
}

func (r clusterReport) rate() float64 {
	if r.load.elapsed <= 0 {
		return 0
	}
	return float64(r.load.sent) / r.load.elapsed.Seconds()
}

func (r clusterReport) perRequest(d time.Duration) float64 {
	if r.load.sent == 0 {
		return 0
	}
	return float64(d/time.Microsecond) / float64(r.load.sent)
}

func (r clusterReport) print(w io.Writer) {
	l := r.load
	secs := l.elapsed.Seconds()
	fmt.Fprintf(w, "clients        %d over %d hub(s) for %s (measured %.1fs)\n", r.conc, r.hubs, r.dur, secs)
	fmt.Fprintf(w, "accepted       %d (%.0f req/s)\n", l.sent, r.rate())
	fmt.Fprintf(w, "failed         %d (statuses %v)\n", l.failed, l.statuses)
	if l.lastErr != nil {
		fmt.Fprintf(w, "last error     %v\n", l.lastErr)
	}
	fmt.Fprintf(w, "latency        p50 %s  p90 %s  p99 %s  max %s\n",
		ms(l.percentile(0.50)), ms(l.percentile(0.90)), ms(l.percentile(0.99)), ms(l.percentile(1)))
	fmt.Fprintf(w, "CPU            hubs %.0f µs, NATS %.0f µs per accepted request (%.2f + %.2f cores)\n",
		r.perRequest(r.hubCPU), r.perRequest(r.natsCPU), r.hubCPU.Seconds()/secs, r.natsCPU.Seconds()/secs)
	if r.truthErr != nil {
		fmt.Fprintf(w, "ground truth   unknown: %v\n", r.truthErr)
	} else {
		fmt.Fprintf(w, "ground truth   %d events accepted into the log for %d answered 202 (%+d); per node %v\n",
			r.truth, l.sent, r.truth-l.sent, r.perNode)
	}
	fmt.Fprintf(w, "log lag        at end per node %v, after %s\n", r.lagEnd, r.drained.Round(100*time.Millisecond))
	fmt.Fprintf(w, "RSS at end     hubs %s, NATS %s\n", mib(r.hubRSS), mib(r.natsRSS))
}

func printClusterSummary(w io.Writer, rs []clusterReport) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n== summary (c%d, %s each, back to back)\n", rs[0].conc, rs[0].dur)
	fmt.Fprintf(w, "%-9s %9s %8s %8s %9s %9s %8s\n", "setup", "req/s", "p50", "p99", "hub µs", "NATS µs", "/badger")
	base := map[int]float64{}
	for _, r := range rs {
		if r.nats == 0 {
			base[r.round] = r.rate()
		}
	}
	for _, r := range rs {
		ratio := "-"
		if b := base[r.round]; b > 0 {
			ratio = fmt.Sprintf("%.2f", r.rate()/b)
		}
		fmt.Fprintf(w, "%-9s %9.0f %8s %8s %9.0f %9.0f %8s\n", r.label, r.rate(),
			ms(r.load.percentile(0.5)), ms(r.load.percentile(0.99)),
			r.perRequest(r.hubCPU), r.perRequest(r.natsCPU), ratio)
	}
}
