package storeapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

type usage struct {
	u   store.Usage
	err error
}

func (f usage) Usage(context.Context) (store.Usage, error) { return f.u, f.err }

type lag uint64

func (l lag) Lag() uint64 { return uint64(l) }

type sweeps store.Sweep

func (s sweeps) Last() store.Sweep { return store.Sweep(s) }

func TestStatus(t *testing.T) {
	swept := store.Sweep{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Events: 7}
	tests := []struct {
		name      string
		usage     usage
		sweep     store.Sweep
		status    int
		writable  bool
		lastSweep bool
	}{
		{"writable, never swept", usage{u: store.Usage{DedupKeys: 3}}, store.Sweep{}, 200, true, false},
		{"disk full, swept", usage{u: store.Usage{WriteError: "disk full"}}, swept, 200, false, true},
		{"usage fails", usage{err: errors.New("stat: permission denied")}, store.Sweep{}, 500, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &API{
				DataDir:   "data",
				Retention: config.Retention{Events: 72 * time.Hour, Runs: 720 * time.Hour, DeadLetters: 2160 * time.Hour, MinFreeBytes: 1 << 20},
				Store:     tt.usage, Engine: lag(5), Sweeps: sweeps(tt.sweep),
			}
			app := fiber.New()
			a.Routes(app.Group("/api/v1"))
			resp, err := app.Test(httptest.NewRequest("GET", "/api/v1/status", nil), -1)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if tt.status != 200 {
				return
			}
			var st Status
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatal(err)
			}
			if st.DataDir != "data" || st.LogLag != 5 || st.Writable != tt.writable || st.Store.DedupKeys != tt.usage.u.DedupKeys {
				t.Errorf("status %+v", st)
			}
			if want := (RetentionStatus{Events: "72h0m0s", Runs: "720h0m0s", DeadLetters: "2160h0m0s", MinFreeBytes: 1 << 20}); st.Retention != want {
				t.Errorf("retention %+v, want %+v", st.Retention, want)
			}
			if got := st.LastSweep != nil; got != tt.lastSweep {
				t.Fatalf("lastSweep present = %v, want %v", got, tt.lastSweep)
			}
			if tt.lastSweep && (!st.LastSweep.At.Equal(swept.At) || st.LastSweep.Events != 7) {
				t.Errorf("lastSweep %+v, want %+v", st.LastSweep, swept)
			}
		})
	}
}
