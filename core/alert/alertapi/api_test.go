package alertapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/alert"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type noActions struct{}

func (noActions) Action(string, string) (task.Executor, error) {
	return task.ExecutorFunc(func(context.Context, *task.Call) (json.RawMessage, error) { return nil, nil }), nil
}

func TestRoutes(t *testing.T) {
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	defs := []*config.Alert{
		{Name: "b-quiet", Cooldown: time.Minute, When: config.AlertCondition{Kind: config.AlertFetchFailed}, Notify: config.AlertNotify{Connection: "ops", Channel: "webhook"}},
		{Name: "z-dlq", Cooldown: time.Minute, When: config.AlertCondition{Kind: config.AlertRunDeadLettered, Count: 1, Window: time.Hour}, Notify: config.AlertNotify{Connection: "ops", Channel: "webhook"}},
	}
	e, err := alert.New(context.Background(), alert.Options{KV: st.KV(), Alerts: defs, Actions: noActions{}, Logger: quiet, Tick: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e.Start(context.Background())
	t.Cleanup(func() { e.Close() })
	e.RunFinished("orders", "run_1", true, true, false, "task send: HTTP 500")

	app := fiber.New()
	(&API{Alerts: e}).Routes(app.Group("/api/v1"))
	var got alert.Status
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := app.Test(httptest.NewRequest("GET", "/api/v1/alerts", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		got = alert.Status{}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(got.Recent) == 1 && got.Recent[0].Delivery == "sent" {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(got.Alerts) != 2 || got.Alerts[0].Name != "z-dlq" || !got.Alerts[0].Firing || got.Alerts[0].Occurrences != 1 || got.Alerts[1].Firing {
		t.Errorf("alerts %+v, want z-dlq firing first", got.Alerts)
	}
	if len(got.Recent) != 1 || got.Recent[0].Alert != "z-dlq" || got.Recent[0].Kind != alert.KindFiring || got.Recent[0].Delivery != "sent" {
		t.Errorf("recent %+v", got.Recent)
	}
}
