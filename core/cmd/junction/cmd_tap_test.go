package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/tap"
	"github.com/junctionhub/junction/core/tap/tapapi"
)

// lockedBuffer is written by the command while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tapServer serves the tap API over b on loopback, as the hub mounts it.
func tapServer(t *testing.T, b *tap.Broker) string {
	t.Helper()
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	a := &tapapi.API{
		Broker:     b,
		Connection: func(n string) bool { return n == "orders-in" },
		Workflow:   func(n string) (string, bool) { return "orders-in", n == "orders-to-crm" },
	}
	a.Routes(app.Group("/api/v1"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Listener(ln) }()
	t.Cleanup(func() {
		b.Close() // streams end, so the shutdown does not wait for them
		if err := app.Shutdown(); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
	})
	return "http://" + ln.Addr().String()
}

func TestTapCommand(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"connection", []string{"orders-in"}, []string{
			`event evt_0000000000000007 order {"id":"A-1"}`,
			`run   run_1 orders-to-crm completed (event evt_0000000000000007)`,
		}},
		{"workflow as JSON", []string{"--workflow", "orders-to-crm", "--json"}, []string{
			`{"kind":"event","data":{"id":"evt_0000000000000007","connection":"orders-in","type":"order"`,
			`{"kind":"run","data":{"id":"run_1","workflow":"orders-to-crm"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tap.New()
			url := tapServer(t, b)
			cmd := newTapCmd()
			var out, status lockedBuffer
			cmd.SetOut(&out)
			cmd.SetErr(&status)
			cmd.SetArgs(append(tt.args, "--server", url, "--token", "tok"))
			errc := make(chan error, 1)
			go func() { errc <- cmd.ExecuteContext(context.Background()) }()
			deadline := time.Now().Add(20 * time.Second)
			for b.Subscribers() == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			b.PublishAppended(
				[]store.AppendRequest{{Connection: "orders-in", Type: "order", Payload: json.RawMessage(`{"id":"A-1"}`)}},
				[]store.AppendResult{{ID: "evt_0000000000000007", Seq: 7}}, time.Now())
			b.PublishRun(&store.Run{ID: "run_1", Workflow: "orders-to-crm", Connection: "orders-in", EventID: "evt_0000000000000007", Status: store.StatusCompleted, FinishedAt: time.Now()})
			for !strings.Contains(out.String(), "run_1") && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			b.Close()
			err := <-errc
			if err == nil || !strings.Contains(err.Error(), "shutting down") {
				t.Errorf("after the hub closed the tap: err %v, want the reason", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if !strings.Contains(status.String(), "watching") {
				t.Errorf("no status line: %q", status.String())
			}
		})
	}
}

func TestTapCommandRefuses(t *testing.T) {
	url := tapServer(t, tap.New())
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{"nothing to watch", nil, true, "give a CONNECTION"},
		{"both", []string{"orders-in", "--workflow", "w"}, true, "not both"},
		{"unknown connection", []string{"nope"}, false, `connection "nope" is not configured`},
		{"unknown workflow", []string{"--workflow", "nope"}, false, `workflow "nope" is not configured`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := newTapCmd()
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SetArgs(append(tt.args, "--server", url, "--token", "tok"))
			err := cmd.ExecuteContext(context.Background())
			var ue usageError
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.As(err, &ue) != tt.usage {
				t.Errorf("err %v, want %q (usage error: %v)", err, tt.want, tt.usage)
			}
		})
	}
}
