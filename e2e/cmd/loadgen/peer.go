package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The peer is Benthos (issue 12's yardstick), built from the nested module
// in peer/benthos: http_server, the workflow's filter and typed fields in
// bloblang, and file outputs that never fsync. It answers 200 once both
// outputs took the event, where the hub answers 202 once the event is
// fsynced.
const (
	peerModuleDir = "peer/benthos"
	peerStatus    = 200
	// peerRecordSep ends each record of the peer's event file (the
	// "delim:\x1e" codec of peer/benthos/benthos.yaml): the track event is
	// pretty-printed, so lines would not count events.
	peerRecordSep = 0x1e
)

// buildPeer compiles the peer into dir. The go command runs inside the
// nested module, so its dependencies come from that module's go.sum and
// never touch Junction's go.mod.
func buildPeer(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-f", "{{.Dir}}", "github.com/junctionhub/junction/e2e/cmd/loadgen").Output()
	if err != nil {
		return "", fmt.Errorf("build peer: find loadgen's source (run from Junction's module): %w", err)
	}
	src := filepath.Join(strings.TrimSpace(string(out)), filepath.FromSlash(peerModuleDir))
	bin := filepath.Join(dir, "benthos-peer")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = src
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build peer in %s: %w\n%s", src, err, msg)
	}
	return bin, nil
}

// startPeer runs the peer binary with its files in dataDir and waits for
// Benthos's /ready, which answers 200 once its input and outputs connected.
func startPeer(ctx context.Context, bin, dataDir string) (*hub, error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("peer data dir: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	h := &hub{url: "http://" + addr, done: make(chan error, 1), peer: true, readyPath: "/ready",
		peerOut: filepath.Join(dataDir, "events"), peerMatched: filepath.Join(dataDir, "matched.jsonl")}
	h.cmd = exec.Command(bin)
	h.cmd.Env = append(os.Environ(), "PEER_ADDR="+addr, "PEER_OUT="+h.peerOut, "PEER_MATCHED="+h.peerMatched)
	h.cmd.Stdout, h.cmd.Stderr = &h.out, &h.out
	if err := h.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start peer: %w", err)
	}
	go func() { h.done <- h.cmd.Wait() }()
	if err := h.waitReady(ctx, 60*time.Second); err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	return h, nil
}

// peerTruth counts what the peer wrote: records in its event file and lines
// in its matched file (none is expected: the workload's filter does not
// match). Benthos writes before it acknowledges, so every 2xx is already in
// the file; requests cut off when the clients stopped may add a few more.
func (h *hub) peerTruth() (records, matched int64, err error) {
	if records, err = countByte(h.peerOut, peerRecordSep); err != nil {
		return 0, 0, err
	}
	matched, err = countByte(h.peerMatched, '\n')
	if errors.Is(err, os.ErrNotExist) {
		// The file output opens its file on the first message it writes.
		return records, 0, nil
	}
	return records, matched, err
}

func countByte(path string, b byte) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("count records: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{b}))
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("count records in %s: %w", path, err)
		}
	}
}
