package directory

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

// TestMain checks that every store the tests open is closed with its
// goroutines.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openStore opens a Badger store, in memory when dir is "", closed when the
// test ends.
func openStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dir, store.Options{
		InMemory: dir == "", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		SecretKey: make([]byte, store.SecretKeySize),
	})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// dirCfg is a Directory as config.Load returns it; rules are written as in
// YAML ("email", "firstName+lastName"); none means the default.
func dirCfg(name string, rules ...string) *config.Directory {
	d := &config.Directory{Name: name}
	for _, r := range rules {
		d.Dedup = append(d.Dedup, strings.Split(r, "+"))
	}
	return d
}

func newTestService(t testing.TB, dirs ...*config.Directory) *Service {
	t.Helper()
	return New(openStore(t, ""), dirs)
}

// clock is a settable clock for createdAt/updatedAt and default dates.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(s *Service) *clock {
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	s.now = c.now
	return c
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func upsert(t *testing.T, s *Service, dir string, in ContactInput) (*Contact, bool) {
	t.Helper()
	c, created, err := s.Upsert(context.Background(), dir, in)
	if err != nil {
		t.Fatalf("Upsert(%s, %+v): %v", dir, in, err)
	}
	return c, created
}

func count(t *testing.T, s *Service, dir string) int {
	t.Helper()
	n, err := s.Count(context.Background(), dir)
	if err != nil {
		t.Fatalf("Count(%s): %v", dir, err)
	}
	return n
}

func wantErr(t *testing.T, err error, substr string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", substr)
	}
	if !strings.Contains(err.Error(), substr) {
		t.Fatalf("error %q, want it to contain %q", err, substr)
	}
}

func wantPermanent(t *testing.T, err error) {
	t.Helper()
	if !IsPermanent(err) {
		t.Errorf("error %v: want a permanent (input) error", err)
	}
}

func ptr[T any](v T) *T { return &v }
