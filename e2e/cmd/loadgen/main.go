// Command loadgen is Junction's ingest load harness. It builds the junction
// binary (or takes one), starts it with testdata/hub.yaml on loopback, posts a
// 1.1 KB Segment track event from a fixed number of concurrent clients for a
// fixed time, and prints the request rate, latency percentiles, the
// dispatcher's log lag and the hub's RSS (read from /proc). It reports and
// never asserts: the numbers depend on the machine and on what else runs on
// it, so read them side by side with a run made just before or after.
//
//	go run ./e2e/cmd/loadgen -c 64 -d 5m        # or: task bench:ingest
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
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
	flag.Parse()
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
	cfgDir := filepath.Join(dir, "configs")
	if err := writeConfig(cfgDir, o.settings); err != nil {
		return err
	}
	h, err := startHub(ctx, bin, cfgDir, filepath.Join(dir, "data"))
	if err != nil {
		return err
	}
	defer h.stop()

	rss := newRSSSampler(h.pid())
	lag := newLagSampler(h.url)
	samplers, cancelSamplers := context.WithCancel(ctx)
	defer cancelSamplers()
	go rss.run(samplers, 250*time.Millisecond)
	go lag.run(samplers, time.Second)

	res := drive(ctx, h.url+"/hooks/segment-in", o.conc, o.dur)
	endLag, lagErr := h.lag()
	drained := drainTime(ctx, h, 30*time.Second)
	cancelSamplers()

	r := report{
		conc: o.conc, dur: o.dur, load: res,
		lagEnd: endLag, lagMax: lag.max(), lagErr: lagErr, drained: drained,
		rssStart: rss.first(), rssPeak: rss.peak(), rssEnd: rss.sample(),
	}
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
	if o.bomb {
		bomb(ctx, h.url+"/hooks/segment-in", rss, time.Minute, 256<<10).print(os.Stdout)
	}
	if res.sent == 0 {
		return errors.New("no request was answered")
	}
	return nil
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
