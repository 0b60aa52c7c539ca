package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDiskFull runs the binary on a real 96 MiB tmpfs: with the disk filled
// by another file, a push gets 503 with Retry-After and nothing is stored,
// /readyz says not ready; once the file is removed the next push is
// accepted and every event acknowledged before is still there. It needs
// root (mount); elsewhere core/store's TestDiskGuard covers the same logic
// with a fault injector.
func TestDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	s := newSink(t)
	cfg := t.TempDir()
	writeFile(t, filepath.Join(cfg, "hub.yaml"), `apiVersion: junction/v1
kind: Settings
spec:
  retention: {min_free_bytes: 32MiB}
---
`+ordersConfig)
	h := startHub(t, cfg, filepath.Join(mnt, "data"), map[string]string{"SINK_URL": s.URL}, "")

	const acked = 5
	for i := range acked {
		if code := postOrder(t, h, fmt.Sprintf("before-%d", i), 1000); code != 202 {
			t.Fatalf("post %d before the disk fills: %d", i, code)
		}
	}

	// Fill the file system until less than the 32 MiB reserve is free.
	ballast := filepath.Join(mnt, "ballast")
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for freeBytes(t, mnt) > 16<<20 {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	f.Close()

	for i := range 3 {
		resp := postOrderResp(t, h, fmt.Sprintf("full-%d", i))
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("push on a full disk: %d (Retry-After %q), want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	if resp, err := http.Get(h.URL + "/readyz"); err != nil || resp.StatusCode != 503 {
		t.Errorf("/readyz on a full disk: %v %v, want 503", resp.StatusCode, err)
	}
	if st := h.status(); st.Writable || st.Store.Events.Count != acked {
		t.Errorf("status on a full disk: writable %v, %d events; want false, %d", st.Writable, st.Store.Events.Count, acked)
	}

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "/readyz ready after freeing space", func() bool {
		resp, err := http.Get(h.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if code := postOrder(t, h, "after", 1000); code != 202 {
		t.Fatalf("first push after freeing space: %d, want 202", code)
	}
	for seq := 1; seq <= acked+1; seq++ {
		if code := h.api("GET", fmt.Sprintf("/events/evt_%016x", seq), nil, nil); code != 200 {
			t.Errorf("event %d after recovery: %d, want 200", seq, code)
		}
	}
	if code := h.api("GET", fmt.Sprintf("/events/evt_%016x", acked+2), nil, nil); code != 404 {
		t.Errorf("an event beyond those acknowledged exists: %d", code)
	}
}

func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

func postOrderResp(t *testing.T, h *hubProc, dedupKey string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", h.URL+"/hooks/orders-in", strings.NewReader(`{"kind":"order","n":1}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", "k-orders")
	req.Header.Set("Idempotency-Key", dedupKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
