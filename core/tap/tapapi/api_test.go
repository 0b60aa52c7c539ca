package tapapi

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/tap"
)

// TestStreamOutlivesWriteTimeout: the server's write timeout is set once
// per response; a tap stream pushes it on before each write, so an event
// long after the timeout still reaches a reader that keeps reading.
func TestStreamOutlivesWriteTimeout(t *testing.T) {
	const writeTimeout = 200 * time.Millisecond
	b := tap.New()
	app := fiber.New(fiber.Config{DisableStartupMessage: true, WriteTimeout: writeTimeout})
	(&API{
		Broker:     b,
		Connection: func(n string) bool { return n == "c" },
		Workflow:   func(string) (string, bool) { return "", false },
	}).Routes(app)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		b.Close()
		_ = app.Shutdown()
		<-done
	})

	resp, err := http.Get("http://" + ln.Addr().String() + "/tap?connection=c")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("GET /tap: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("nothing on the stream within 10s")
			return ""
		}
	}
	if l := next(); l != "event: ready" {
		t.Fatalf("first line %q, want event: ready", l)
	}
	next() // its data
	next() // the blank line that ends it
	time.Sleep(3 * writeTimeout)
	b.PublishAppended([]store.AppendRequest{{Connection: "c", Payload: json.RawMessage(`{"late":true}`)}}, []store.AppendResult{{ID: "evt_0000000000000001"}}, time.Now())
	if l := next(); l != "event: event" {
		t.Fatalf("after the write timeout: %q, want event: event", l)
	}
	if l := next(); !strings.Contains(l, `"late":true`) {
		t.Errorf("data %q", l)
	}
}

func TestRefusals(t *testing.T) {
	a := &API{
		Broker:     tap.New(),
		Connection: func(n string) bool { return n == "c" },
		Workflow:   func(n string) (string, bool) { return "c", n == "w" },
	}
	app := fiber.New()
	a.Routes(app)
	tests := []struct {
		query string
		want  int
	}{
		{"", 400},
		{"?connection=c&workflow=w", 400},
		{"?connection=nope", 404},
		{"?workflow=nope", 404},
	}
	for _, tt := range tests {
		resp, err := app.Test(httptestRequest("/tap"+tt.query), -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET /tap%s: %d, want %d", tt.query, resp.StatusCode, tt.want)
		}
	}
	a.Broker.Close()
	resp, err := app.Test(httptestRequest("/tap?connection=c"), -1)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("GET /tap while shutting down: %d, want 503", resp.StatusCode)
	}
}

func httptestRequest(target string) *http.Request {
	r, _ := http.NewRequest("GET", "http://hub"+target, nil)
	return r
}
