package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// Badger's DropPrefix refuses writes while it flushes the memtable, instead
// of holding them. flushMemtable runs it between two commits, so appends
// made meanwhile wait and succeed, and the flush really writes a table.
func TestFlushMemtableHoldsAppends(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	tablesBefore := len(s.db.Tables())
	payload := `{"pad":"` + strings.Repeat("x", 2000) + `"}`

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	stop := make(chan struct{})
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Log().Append(ctx, []AppendRequest{req(fmt.Sprintf("w%d", w), payload)}); err != nil {
					errs <- fmt.Errorf("writer %d, append %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	for range 5 {
		if err := s.flushMemtable(ctx); err != nil {
			t.Fatalf("flushMemtable: %v", err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(s.db.Tables()); n <= tablesBefore {
		t.Errorf("tables after the flushes: %d, before: %d; the memtable was not written", n, tablesBefore)
	}
}
