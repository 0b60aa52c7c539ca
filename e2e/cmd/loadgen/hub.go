package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const apiKey = "loadgen-key"

// build compiles the junction command of this module into bin.
func build(ctx context.Context, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, "github.com/junctionhub/junction/core/cmd/junction")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build junction: %w\n%s", err, out)
	}
	return nil
}

// hub is a running `junction serve`, the bare baseline server, or the peer.
type hub struct {
	cmd  *exec.Cmd
	url  string
	out  bytes.Buffer
	done chan error
	bare bool
	peer bool
	// readyPath answers 200 once the server takes requests (/readyz when
	// empty).
	readyPath string
	// pprof is the hub's --pprof address, when profiles are taken.
	pprof string
	// peerOut and peerMatched are the peer's output files.
	peerOut, peerMatched string
}

// junction says whether the server is a junction binary, with its metrics.
func (h *hub) junction() bool { return !h.bare && !h.peer }

func startHub(ctx context.Context, bin, cfgDir, dataDir string, profile bool, env ...string) (*hub, error) {
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	addr := addrs[0]
	h := &hub{url: "http://" + addr, done: make(chan error, 1)}
	args := []string{"serve", "--config", cfgDir, "--data", dataDir, "--addr", addr, "--log-level", "warn"}
	if profile {
		h.pprof = addrs[1]
		args = append(args, "--pprof", h.pprof)
	}
	h.cmd = exec.Command(bin, args...)
	h.cmd.Env = append(append(os.Environ(), "LOAD_API_KEY="+apiKey, "JUNCTION_ADMIN_TOKEN=loadgen-admin"), env...)
	h.cmd.Stdout, h.cmd.Stderr = &h.out, &h.out
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start junction: %w", err)
	}
	go func() { h.done <- h.cmd.Wait() }()
	if err := h.waitReady(ctx, 60*time.Second); err != nil {
		return nil, fmt.Errorf("junction: %w", err)
	}
	return h, nil
}

func (h *hub) pid() int { return h.cmd.Process.Pid }

// stop ends the hub gracefully, killing it if it does not stop in 30 s.
func (h *hub) stop() {
	if h.cmd.ProcessState != nil {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.done
	}
}

// lag reads junction_log_lag_events from /metrics: events logged that the
// dispatcher has not handled yet.
func (h *hub) lag() (int64, error) {
	v, err := h.metrics("junction_log_lag_events")
	if err != nil {
		return 0, err
	}
	return int64(v[0]), nil
}

// metrics reads unlabelled metrics from /metrics, in the order named.
func (h *hub) metrics(names ...string) ([]float64, error) {
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	out := make([]float64, len(names))
	found := 0
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		for i, name := range names {
			if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil {
					return nil, fmt.Errorf("parse %s %q: %w", name, v, err)
				}
				out[i] = f
				found++
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	if found < len(names) {
		return nil, fmt.Errorf("metrics carry only %d of %v", found, names)
	}
	return out, nil
}

// accepted reads how many events the hub durably appended to its log for
// a connection since it started (junction_events_accepted_total).
func (h *hub) accepted(connection string) (int64, error) {
	v, err := h.metrics(`junction_events_accepted_total{connection="` + connection + `"}`)
	if err != nil {
		return 0, err
	}
	return int64(v[0]), nil
}

// commitNames are the store's group-commit counters.
var commitNames = []string{"junction_store_commits_total", "junction_store_commit_ops_total", "junction_store_commit_seconds_total"}

// drainTime waits until the log lag is zero and says how long that took
// (-1 when it did not reach zero within max).
func drainTime(ctx context.Context, h *hub, max time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < max && ctx.Err() == nil {
		if n, err := h.lag(); err == nil && n == 0 {
			return time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return -1
}

func freeAddr() (string, error) {
	a, err := freeAddrs(1)
	if err != nil {
		return "", err
	}
	return a[0], nil
}

// freeAddrs finds n distinct free loopback ports: every listener stays
// open until all are found, so the kernel cannot hand out one port twice.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}
