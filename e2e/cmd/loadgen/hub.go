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

// hub is a running `junction serve`.
type hub struct {
	cmd  *exec.Cmd
	url  string
	out  bytes.Buffer
	done chan error
}

func startHub(ctx context.Context, bin, cfgDir, dataDir string) (*hub, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	h := &hub{url: "http://" + addr, done: make(chan error, 1)}
	h.cmd = exec.Command(bin, "serve", "--config", cfgDir, "--data", dataDir, "--addr", addr, "--log-level", "warn")
	h.cmd.Env = append(os.Environ(), "LOAD_API_KEY="+apiKey, "JUNCTION_ADMIN_TOKEN=loadgen-admin")
	h.cmd.Stdout, h.cmd.Stderr = &h.out, &h.out
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start junction: %w", err)
	}
	go func() { h.done <- h.cmd.Wait() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-h.done:
			return nil, fmt.Errorf("junction exited before it was ready: %v\n%s", err, h.out.String())
		case <-ctx.Done():
			h.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := http.Get(h.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return h, nil
			}
		}
	}
	h.stop()
	return nil, fmt.Errorf("junction not ready after 60s:\n%s", h.out.String())
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
	resp, err := http.Get(h.url + "/metrics")
	if err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "junction_log_lag_events "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("parse log lag %q: %w", v, err)
			}
			return int64(f), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	return 0, fmt.Errorf("metrics carry no junction_log_lag_events")
}

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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
