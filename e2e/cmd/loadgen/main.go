// Command loadgen is Junction's ingest load harness. It builds the junction
// binary (or takes one), starts it with testdata/hub.yaml on loopback, posts a
// 1.1 KB Segment track event from a fixed number of concurrent clients for a
// fixed time, and prints the request rate, latency percentiles, the
// dispatcher's log lag and the hub's RSS (read from /proc). It reports and
// never asserts: the numbers depend on the machine and on what else runs on
// it, so read them side by side with a run made just before or after.
//
// In the same invocation it can also measure a bare fiber handler that parses
// the same JSON (-bare, the HTTP ceiling), a second binary (-compare, before
// and after a change), and every run again (-aa, an A/A control that shows
// the noise), the peer (-peer, Benthos running the same filter and map, the
// yardstick of issue 12), and it prints each run's ratio to the first; -profile takes
// CPU and allocation profiles of each hub run through its --pprof listener.
//
//	go run ./e2e/cmd/loadgen -c 64 -d 5m        # or: task bench:ingest
//	go run ./e2e/cmd/loadgen -d 60s -bare -aa -compare /tmp/junction-before
//	go run ./e2e/cmd/loadgen -d 60s -bare -aa -peer build   # or: task bench:peer
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

//go:embed testdata/hub.yaml
var hubYAML []byte

//go:embed testdata/track.json
var trackEvent []byte

func main() {
	var o options
	flag.IntVar(&o.conc, "c", 64, "concurrent clients")
	flag.DurationVar(&o.dur, "d", 60*time.Second, "how long to send")
	flag.DurationVar(&o.settle, "settle", 0, "after sending, wait this long and report RSS again (idle memory)")
	flag.StringVar(&o.bin, "bin", "", "junction binary to run (default: build ./core/cmd/junction)")
	flag.StringVar(&o.settings, "settings", "", "Settings spec as YAML flow pairs, e.g. 'memory_limit: 160MiB, workers: 8'")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary config and data dir")
	flag.BoolVar(&o.bomb, "bomb", false, "at the end, post a gzip bomb (about 1 MB, 1 GiB inflated) with the API key and watch RSS for a minute")
	flag.BoolVar(&o.bare, "bare", false, "also measure a bare fiber handler parsing the same JSON, and report each hub run as a ratio of it")
	flag.BoolVar(&o.aa, "aa", false, "A/A control: make every run twice, back to back, so the noise shows")
	flag.StringVar(&o.compare, "compare", "", "a second junction binary to measure in the same invocation (B against -bin's A)")
	flag.StringVar(&o.peer, "peer", "", "also measure the peer, Benthos running the same filter and map (peer/benthos): a built binary, or 'build' to build it")
	flag.BoolVar(&o.cluster, "cluster", false, "measure ingest on one node on Badger, one on an R1 JetStream stream and three on an R3 stream (natsnode processes), back to back")
	flag.StringVar(&o.profile, "profile", "", "write each hub run's CPU profile (the middle of the run) and allocation profile to this directory")
	flag.Parse()
	if addr := os.Getenv(bareEnv); addr != "" {
		if err := serveBare(addr); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen bare:", err)
			os.Exit(1)
		}
		return
	}
	if o.conc < 1 || o.dur <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: -c must be ≥ 1 and -d > 0")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

type options struct {
	conc     int
	dur      time.Duration
	settle   time.Duration
	bin      string
	settings string
	keep     bool
	bomb     bool
	bare     bool
	aa       bool
	compare  string
	peer     string
	profile  string
	cluster  bool
}

func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "junction-loadgen-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	if o.keep {
		slog.Info("keeping the work dir", "dir", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := o.bin
	if bin == "" {
		bin = filepath.Join(dir, "junction")
		if err := build(ctx, bin); err != nil {
			return err
		}
	}
	if o.cluster {
		return runCluster(ctx, o, dir, bin)
	}
	cfgDir := filepath.Join(dir, "configs")
	if err := writeConfig(cfgDir, o.settings); err != nil {
		return err
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return fmt.Errorf("profile dir: %w", err)
		}
	}
	plan := []target{{label: "junction", bin: bin}}
	if o.compare != "" {
		plan[0].label = "A"
		plan = append(plan, target{label: "B", bin: o.compare})
	}
	if o.bare {
		plan = append(plan, target{label: "bare"})
	}
	if o.peer != "" {
		peerBin := o.peer
		if peerBin == "build" {
			if peerBin, err = buildPeer(ctx, dir); err != nil {
				return err
			}
		}
		plan = append(plan, target{label: "benthos", bin: peerBin, peer: true})
	}
	if o.aa {
		for _, t := range slices.Clone(plan) {
			t.label += "'"
			t.round = 1
			plan = append(plan, t)
		}
	}
	var reports []report
	for i, t := range plan {
		if ctx.Err() != nil {
			break
		}
		if len(plan) > 1 {
			fmt.Printf("== %s (%s)\n", t.label, t.describe())
		}
		r, err := measure(ctx, o, t, cfgDir, filepath.Join(dir, fmt.Sprintf("data-%d", i)), o.bomb && i == 0)
		if err != nil {
			return fmt.Errorf("run %s: %w", t.label, err)
		}
		r.round = t.round
		reports = append(reports, r)
	}
	if len(reports) > 1 {
		printSummary(os.Stdout, reports)
	}
	return nil
}

// target is one measured server: a junction binary, the peer when peer is
// set, or the bare baseline when bin is empty.
type target struct {
	label string
	bin   string
	peer  bool
	round int
}

func (t target) describe() string {
	switch {
	case t.peer:
		return "Benthos peer, no fsync: " + t.bin
	case t.bin == "":
		return "bare fiber handler, same JSON"
	}
	return t.bin
}

// measure starts the target, drives it for o.dur and reports what it saw.
func measure(ctx context.Context, o options, t target, cfgDir, dataDir string, bombIt bool) (report, error) {
	var h *hub
	var err error
	switch {
	case t.peer:
		h, err = startPeer(ctx, t.bin, dataDir)
	case t.bin == "":
		h, err = startBare(ctx)
	default:
		h, err = startHub(ctx, t.bin, cfgDir, dataDir, o.profile != "")
	}
	if err != nil {
		return report{}, err
	}
	defer h.stop()

	rss := newRSSSampler(h.pid())
	lag := newLagSampler(h.url)
	samplers, cancelSamplers := context.WithCancel(ctx)
	defer cancelSamplers()
	go rss.run(samplers, 250*time.Millisecond)
	if h.junction() {
		go lag.run(samplers, time.Second)
	}
	prof := startProfiles(samplers, h, o.profile, t.label, o.dur)

	var c0 []float64
	if h.junction() {
		c0, _ = h.metrics(commitNames...) // a binary without them: no line
	}
	u0, s0 := procCPU(h.pid())
	want := http.StatusAccepted
	if h.peer {
		want = peerStatus
	}
	res := drive(ctx, h.url+"/hooks/segment-in", o.conc, o.dur, want)
	u1, s1 := procCPU(h.pid())
	r := report{label: t.label, bare: h.bare, peer: h.peer, conc: o.conc, dur: o.dur, load: res, drained: -1,
		cpuUser: u1 - u0, cpuSys: s1 - s0, truth: -1}
	if c0 != nil {
		if c1, err := h.metrics(commitNames...); err == nil {
			r.commits, r.commitOps, r.commitSecs = c1[0]-c0[0], c1[1]-c0[1], c1[2]-c0[2]
		}
	}
	if h.junction() {
		r.lagEnd, r.lagErr = h.lag()
		r.drained = drainTime(ctx, h, 30*time.Second)
		r.lagMax = lag.max()
		r.truth, r.truthErr = h.accepted("segment-in")
	}
	if h.peer {
		r.truth, r.matched, r.truthErr = h.peerTruth()
	}
	r.profiles = prof.wait()
	cancelSamplers()
	r.rssStart, r.rssPeak, r.rssEnd = rss.first(), rss.peak(), rss.sample()
	r.anonEnd, r.fileEnd = rss.split()
	if o.settle > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(o.settle):
		}
		r.settle, r.rssSettled = o.settle, rss.sample()
		r.anonSettled, r.fileSettled = rss.split()
	}
	r.print(os.Stdout)
	if bombIt && h.junction() {
		bomb(ctx, h.url+"/hooks/segment-in", rss, time.Minute, 256<<10).print(os.Stdout)
	}
	if res.sent == 0 {
		return r, errors.New("no request was answered")
	}
	return r, nil
}

func writeConfig(dir, settings string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("config dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hub.yaml"), hubYAML, 0o644); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if settings == "" {
		return nil
	}
	doc := "apiVersion: junction/v1\nkind: Settings\nmetadata: {name: load}\nspec: {" + settings + "}\n"
	if err := os.WriteFile(filepath.Join(dir, "settings.yaml"), []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write settings: %w", err)
	}
	return nil
}
