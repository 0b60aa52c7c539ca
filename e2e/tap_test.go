package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestTapShowsEventsUnderLoad: `junction tap` started against a running
// hub prints every event logged on the connection while senders push a
// load, then the runs they start as they finish; Ctrl-C ends it with exit
// status 0. The tap reads through the contract proxy, so its answer is
// checked too.
func TestTapShowsEventsUnderLoad(t *testing.T) {
	s := newSink(t)
	h := startHub(t, copyConfigs(t, "testdata/spine"), t.TempDir(), spineEnv(s), "")

	cmd := exec.Command(junctionBinary(t), "tap", "orders-in")
	cmd.Env = append(cmd.Environ(), "JUNCTION_SERVER="+h.APIURL, "JUNCTION_ADMIN_TOKEN="+h.Token)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var mu sync.Mutex
	var lines []string
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
		}
	}()
	waitFor(t, 30*time.Second, "tap to attach", func() bool { return strings.Contains(stderr.String(), "watching connection orders-in") })

	const senders, each = 8, 50
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				body := fmt.Sprintf(`{"kind":"order","id":"T-%d-%d","total":"%d.5"}`, w, i, i)
				if code, resp := postEvent(t, h.URL, "k-orders", []byte(body)); code != http.StatusAccepted {
					t.Errorf("post: HTTP %d %s", code, resp)
					return
				}
			}
		}()
	}
	wg.Wait()
	count := func(prefix string) (events, runs int) {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range lines {
			switch {
			case strings.Contains(l, " event evt_") && strings.Contains(l, prefix):
				events++
			case strings.Contains(l, " run ") && strings.Contains(l, "orders-to-sink completed"):
				runs++
			}
		}
		return events, runs
	}
	waitFor(t, 60*time.Second, "every event and run on the tap", func() bool {
		e, r := count(`"id":"T-`)
		return e == senders*each && r == senders*each
	})
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-read
	if err := cmd.Wait(); err != nil {
		t.Errorf("tap after Ctrl-C: %v\n%s", err, stderr.String())
	}
	mu.Lock()
	sample := lines[0]
	mu.Unlock()
	if !strings.Contains(sample, `"kind":"order"`) {
		t.Errorf("an event line does not show the payload: %q", sample)
	}
}

// TestTapRefusals: the tap is an admin route, and asks for a connection or
// a workflow that exists.
func TestTapRefusals(t *testing.T) {
	s := newSink(t)
	h := startHub(t, copyConfigs(t, "testdata/spine"), t.TempDir(), spineEnv(s), "")
	tests := []struct {
		name, query, token string
		want               int
	}{
		{"no token", "?connection=orders-in", "", http.StatusUnauthorized},
		{"nothing to watch", "", h.Token, http.StatusBadRequest},
		{"unknown connection", "?connection=nope", h.Token, http.StatusNotFound},
		{"unknown workflow", "?workflow=nope", h.Token, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", h.URL+"/api/v1/tap"+tt.query, nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("GET /api/v1/tap%s: %d %s, want %d", tt.query, resp.StatusCode, body, tt.want)
			}
		})
	}
}

// TestConsoleLiveView: the connection and workflow pages carry a live
// view, whose stream the console's session authorizes (EventSource sends
// the cookie, not a bearer token); without a session it is refused.
func TestConsoleLiveView(t *testing.T) {
	s := newSink(t)
	h := startHub(t, copyConfigs(t, "testdata/spine"), t.TempDir(), spineEnv(s), "")
	c := consoleClient(t)
	consoleLogin(t, h, c)
	for _, page := range []string{"/connections/orders-in", "/workflows/orders-to-sink"} {
		code, body, hdr := fetchPage(t, c, "GET", h.URL+page, nil)
		if code != http.StatusOK || !strings.Contains(body, `data-tap="`+page+`/tap"`) {
			t.Errorf("GET %s: %d, want 200 with a live view of %s/tap", page, code, page)
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("GET %s: CSP %q does not let the page open its stream", page, csp)
		}
	}
	if code, _, _ := fetchPage(t, consoleClient(t), "GET", h.URL+"/workflows/orders-to-sink/tap", nil); code != http.StatusSeeOther && code != http.StatusUnauthorized {
		t.Errorf("live view without a session: %d, want a redirect to the login or 401", code)
	}

	req, _ := http.NewRequest("GET", h.URL+"/workflows/orders-to-sink/tap", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("live view with a session: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	got := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			got <- sc.Text()
		}
		close(got)
	}()
	want := []string{"event: ready", "event: event", `"id":"LV-1"`, "event: run", `"status":"completed"`}
	deadline := time.After(30 * time.Second)
	posted := false
	for len(want) > 0 {
		select {
		case l, ok := <-got:
			if !ok {
				t.Fatalf("the stream ended; still waiting for %q", want)
			}
			if strings.Contains(l, want[0]) {
				want = want[1:]
			}
			if !posted && l == "event: ready" {
				posted = true
				if code, body := postEvent(t, h.URL, "k-orders", []byte(`{"kind":"order","id":"LV-1","total":"2.5"}`)); code != http.StatusAccepted {
					t.Fatalf("post: %d %s", code, body)
				}
			}
		case <-deadline:
			t.Fatalf("timed out waiting for %q on the live view", want)
		}
	}
}
