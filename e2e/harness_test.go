// Package e2e holds black-box tests of the built junction binary against real
// servers on loopback.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// built holds, per package, its build, made once per test binary.
var built sync.Map // package path -> func() (string, error)

// goBinary builds the Go package pkg (a path relative to e2e/) once per
// test binary, into a temporary directory (never in the tree), and returns
// the executable's path.
func goBinary(t *testing.T, pkg, name string) string {
	t.Helper()
	build, _ := built.LoadOrStore(pkg, sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "junction-e2e-"+name)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, name)
		if out, err := exec.Command("go", "build", "-o", path, pkg).CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
		return path, nil
	}))
	path, err := build.(func() (string, error))()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// junctionBinary builds core/cmd/junction once per test binary.
func junctionBinary(t *testing.T) string { return goBinary(t, "../core/cmd/junction", "junction") }

// hubProc is a junction process serving on loopback.
type hubProc struct {
	t   *testing.T
	cmd *exec.Cmd
	URL string
	// APIURL is URL behind a proxy that checks every /api/v1 response
	// against the API's contract (openapi_test.go), for the CLI.
	APIURL string
	Token  string
	out    *syncBuffer
	done   chan error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startHub runs `junction serve` on a free loopback port with the given
// configs, data dir and extra environment, and waits until /readyz answers.
func startHub(t *testing.T, configs, data string, env map[string]string, addr string) *hubProc {
	t.Helper()
	if addr == "" {
		addr = freeAddr(t)
	}
	token := "e2e-admin-token"
	cmd := exec.Command(junctionBinary(t), "serve", "--config", configs, "--data", data, "--addr", addr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "JUNCTION_ADMIN_TOKEN="+token)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &hubProc{t: t, cmd: cmd, URL: "http://" + addr, Token: token, out: out, done: make(chan error, 1)}
	go func() { h.done <- cmd.Wait() }()
	t.Cleanup(func() { h.Stop() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-h.done:
			h.done <- err
			t.Fatalf("junction exited before it was ready: %v\n%s", err, out.String())
		default:
		}
		resp, err := http.Get(h.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				h.APIURL = apiProxy(t, h.URL)
				return h
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("junction not ready after 60s:\n%s", out.String())
	return nil
}

// Kill sends SIGKILL and waits for the process to go.
func (h *hubProc) Kill() {
	_ = h.cmd.Process.Signal(syscall.SIGKILL)
	<-h.done
	h.done <- nil
}

// Stop sends SIGTERM (graceful) and waits.
func (h *hubProc) Stop() {
	if h.cmd.ProcessState != nil {
		return
	}
	select {
	case err := <-h.done:
		h.done <- err
		return
	default:
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-h.done:
		h.done <- err
	case <-time.After(30 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.done
		h.done <- nil
		h.t.Errorf("junction did not stop within 30s after SIGTERM:\n%s", h.out.String())
	}
}

// api calls the admin API and decodes the JSON answer into out.
func (h *hubProc) api(method, path string, body []byte, out any) int {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.URL+"/api/v1"+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+h.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// sink is a loopback HTTP target that records deliveries and, like a
// well-behaved API, performs each Idempotency-Key only once.
type sink struct {
	srv *http.Server
	URL string

	mu         sync.Mutex
	byKey      map[string][]byte
	calls      int
	duplicates int
	failNext   int           // answer 503 to this many calls first
	delay      time.Duration // hold each answer this long after recording it
}

func newSink(t *testing.T) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{byKey: map[string][]byte{}, URL: "http://" + ln.Addr().String() + "/deliver"}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve)}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failNext > 0 {
		s.failNext--
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error":"try later"}`, http.StatusServiceUnavailable)
		return
	}
	if _, seen := s.byKey[key]; seen {
		s.duplicates++
	} else {
		s.byKey[key] = body
	}
	if d := s.delay; d > 0 {
		// The effect is recorded but the answer is late: a hub killed now
		// retries the call after restart, with the same idempotency key.
		s.mu.Unlock()
		time.Sleep(d)
		s.mu.Lock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"received":true,"key":%q}`, key)
}

func (s *sink) delivered() map[string][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]byte, len(s.byKey))
	for k, v := range s.byKey {
		out[k] = v
	}
	return out
}

// copyConfigs copies a testdata config folder into a temp dir.
func copyConfigs(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

func lastLines(s string, n int) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
