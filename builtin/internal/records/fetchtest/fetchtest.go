// Package fetchtest drives a pull connector the way Junction's fetch runner
// does, for the file connectors' tests: Fetch, then commit the events and
// the returned cursor in one write to a real Badger store, then Fetch again
// with that cursor. A test can stop at any point, drop an uncommitted batch
// (a crash before the commit), reopen the store and a new connector (a
// restart) and go on from the committed cursor.
package fetchtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// Harness is a store and the commit loop over it.
type Harness struct {
	t     testing.TB
	dir   string
	Store *store.Badger
	// Conn is the connection name events are appended under.
	Conn string
}

// Open opens a store in a new temporary directory, closed when the test
// ends.
func Open(t testing.TB) *Harness {
	t.Helper()
	h := &Harness{t: t, dir: t.TempDir(), Conn: "files"}
	h.open()
	t.Cleanup(func() {
		if h.Store != nil {
			_ = h.Store.Close()
		}
	})
	return h
}

func (h *Harness) open() {
	h.t.Helper()
	st, err := store.Open(context.Background(), h.dir, store.Options{
		Logger:    slog.New(slog.DiscardHandler),
		SecretKey: bytes.Repeat([]byte{7}, store.SecretKeySize),
	})
	if err != nil {
		h.t.Fatalf("open store: %v", err)
	}
	h.Store = st
}

// Reopen closes the store and opens it again, as a restarted process
// would.
func (h *Harness) Reopen() {
	h.t.Helper()
	if err := h.Store.Close(); err != nil {
		h.t.Fatalf("close store: %v", err)
	}
	h.open()
}

func (h *Harness) cursorKey(entity string) string { return "cursor/" + h.Conn + "/" + entity }

// Cursor is the committed cursor of entity (nil before the first commit).
func (h *Harness) Cursor(entity string) []byte {
	h.t.Helper()
	b, err := h.Store.KV().Get(context.Background(), h.cursorKey(entity))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		h.t.Fatalf("read cursor: %v", err)
	}
	return b
}

// Commit appends res's events and its cursor in one write.
func (h *Harness) Commit(entity string, res *pluginsdk.FetchResult) error {
	reqs := make([]store.AppendRequest, len(res.Events))
	for i, ev := range res.Events {
		reqs[i] = store.AppendRequest{Connection: h.Conn, Type: ev.Type, Payload: ev.Payload, DedupKey: ev.DedupKey}
	}
	_, err := h.Store.Log().AppendWithKV(context.Background(), reqs,
		[]store.KVWrite{{Key: h.cursorKey(entity), Value: res.Cursor}})
	return err
}

// Run fetches and commits batches of entity until Fetch says there is no
// more, Fetch fails, or max batches (0: no limit) were committed. It
// returns the batches committed and whether Fetch said there was more.
func (h *Harness) Run(ctx context.Context, f pluginsdk.Fetcher, entity string, limit, max int) (int, bool, error) {
	for n := 0; ; n++ {
		if max > 0 && n == max {
			return n, true, nil
		}
		res, err := f.Fetch(ctx, &pluginsdk.FetchRequest{Entity: entity, Cursor: h.Cursor(entity), Limit: limit})
		if err != nil {
			return n, true, err
		}
		if err := h.Commit(entity, res); err != nil {
			return n, true, fmt.Errorf("commit: %w", err)
		}
		if !res.More {
			return n + 1, false, nil
		}
	}
}

// Record is an imported event's payload.
type Record struct {
	File   string          `json:"file"`
	Line   int64           `json:"line"`
	Entity string          `json:"entity"`
	Record map[string]any  `json:"record"`
	Raw    json.RawMessage `json:"-"`
}

// Records reads back every event in the log.
func (h *Harness) Records() []Record {
	h.t.Helper()
	var out []Record
	var after uint64
	for {
		evs, err := h.Store.Log().Read(context.Background(), after, 10_000)
		if err != nil {
			h.t.Fatalf("read log: %v", err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, ev := range evs {
			var r Record
			if err := json.Unmarshal(ev.Payload, &r); err != nil {
				h.t.Fatalf("event %s payload %s: %v", ev.ID, ev.Payload, err)
			}
			r.Raw = ev.Payload
			out = append(out, r)
			after = ev.Seq
		}
	}
}

// LineCounts counts the events of each line of file.
func LineCounts(recs []Record, file string) map[int64]int {
	counts := map[int64]int{}
	for _, r := range recs {
		if r.File == file {
			counts[r.Line]++
		}
	}
	return counts
}

// CheckExactlyOnce fails t unless lines first..last of file each appear
// exactly once in recs, and no other line of it does.
func CheckExactlyOnce(t testing.TB, recs []Record, file string, first, last int64) {
	t.Helper()
	counts := LineCounts(recs, file)
	bad := 0
	for l := first; l <= last; l++ {
		if counts[l] != 1 {
			if bad < 5 {
				t.Errorf("%s line %d imported %d times, want once", file, l, counts[l])
			}
			bad++
		}
		delete(counts, l)
	}
	for l, n := range counts {
		t.Errorf("%s line %d imported %d times, want none (outside %d..%d)", file, l, n, first, last)
	}
	if bad > 0 {
		t.Errorf("%s: %d lines not imported exactly once", file, bad)
	}
}
