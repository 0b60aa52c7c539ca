package fetch

import (
	"context"
	"strings"
	"sync"
	"testing"
)

// TestJobDoneReported: every ended job, failed or completed, is reported
// with its final record (alerts).
func TestJobDoneReported(t *testing.T) {
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 2500})
	src.FailAt = 2
	conn := newConn(t, "files", src)
	var mu sync.Mutex
	var done []Job
	r := newRunner(t, st, Options{BatchLimit: 1000, JobDone: func(j Job) {
		mu.Lock()
		defer mu.Unlock()
		done = append(done, j)
	}}, conn)

	if _, err := r.Run(context.Background(), conn, RunOptions{}); err == nil {
		t.Fatal("first job did not fail")
	}
	src.Mu.Lock()
	src.FailAt = 0
	src.Mu.Unlock()
	if _, err := r.Run(context.Background(), conn, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(done) != 2 || done[0].Status != StatusFailed || !strings.Contains(done[0].Error, "source unavailable") ||
		done[1].Status != StatusCompleted || done[1].Connection != "files" || done[1].Finished.IsZero() {
		t.Fatalf("reported %+v", done)
	}
}
