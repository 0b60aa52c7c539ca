package scheduleapi

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

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/schedule"
	"github.com/junctionhub/junction/core/store"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openStore(t *testing.T, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dir, store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{1}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// fixedClock stands still; the scheduler is not started here, so its
// timers never fire.
type fixedClock struct{ now time.Time }

func (c fixedClock) Now() time.Time { return c.now }

func (c fixedClock) TimerAt(time.Time) schedule.Timer { return stopped{} }

type stopped struct{}

func (stopped) C() <-chan time.Time { return nil }
func (stopped) Stop() bool          { return false }

func TestRoutes(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	s := schedule.New(schedule.Options{KV: st.KV(), Clock: fixedClock{now}, Logger: quiet})
	conns := []*config.Connection{{Name: "s3-in", Schedule: &config.Schedule{Cron: "0 3 * * *"}}, {Name: "hook"}}
	if err := s.AddConnections(context.Background(), conns, nil); err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	a := &API{Scheduler: s}
	a.Routes(app.Group("/api/v1"))
	resp, err := app.Test(httptest.NewRequest("GET", "/api/v1/schedules", nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Schedules []schedule.EntryStatus }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Schedules) != 1 || body.Schedules[0].Key != "connection/s3-in" || !body.Schedules[0].Next.Equal(time.Date(2026, 5, 2, 3, 0, 0, 0, time.UTC)) {
		t.Errorf("schedules %+v", body.Schedules)
	}
}
