package store

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

var testKey = bytes.Repeat([]byte{7}, SecretKeySize)

func testOptions() Options {
	return Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: testKey}
}

// openAt opens the store in dir and closes it when the test ends.
func openAt(t testing.TB, dir string, opts Options) *Badger {
	t.Helper()
	s, err := Open(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func openTest(t testing.TB) (*Badger, string) {
	t.Helper()
	dir := t.TempDir()
	return openAt(t, dir, testOptions()), dir
}

// fakeClock is a settable clock for dedup windows.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// submitTogether queues ops so that the committer takes them in one batch,
// then waits for all of them.
func submitTogether(t *testing.T, s *Badger, ops ...interface {
	op
	wait() error
}) []error {
	t.Helper()
	c := s.commit
	c.mu.Lock()
	for _, o := range ops {
		c.pending = append(c.pending, o)
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	errs := make([]error, len(ops))
	for i, o := range ops {
		errs[i] = o.wait()
	}
	return errs
}

func (w *writeOp) wait() error { return <-w.done }

func mustAppend(t *testing.T, s *Badger, reqs ...AppendRequest) []AppendResult {
	t.Helper()
	res, err := s.Log().Append(context.Background(), reqs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	if len(res) != len(reqs) {
		t.Fatalf("Append returned %d results for %d requests", len(res), len(reqs))
	}
	return res
}

func req(conn, payload string) AppendRequest {
	return AppendRequest{Connection: conn, Type: "test", Payload: []byte(payload)}
}
