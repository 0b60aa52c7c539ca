package store

import (
	"context"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/junctionhub/junction/core/event"
)

func dedupReq(conn, key string, window time.Duration) AppendRequest {
	return AppendRequest{Connection: conn, DedupKey: key, DedupWindow: window, Payload: []byte(`{}`)}
}

func TestDedup(t *testing.T) {
	type step struct {
		advance time.Duration   // move the clock first
		reqs    []AppendRequest // one Append call
		want    []AppendResult  // Seq and Duplicate; ID follows Seq
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{
			name: "across calls within the window",
			steps: []step{
				{reqs: []AppendRequest{dedupReq("seg", "m1", time.Hour)}, want: []AppendResult{{Seq: 1}}},
				{advance: 59 * time.Minute, reqs: []AppendRequest{dedupReq("seg", "m1", time.Hour)}, want: []AppendResult{{Seq: 1, Duplicate: true}}},
			},
		},
		{
			name: "within one call",
			steps: []step{
				{reqs: []AppendRequest{dedupReq("seg", "m1", 0), dedupReq("seg", "m2", 0), dedupReq("seg", "m1", 0)},
					want: []AppendResult{{Seq: 1}, {Seq: 2}, {Seq: 1, Duplicate: true}}},
			},
		},
		{
			name: "after the window",
			steps: []step{
				{reqs: []AppendRequest{dedupReq("seg", "m1", time.Minute)}, want: []AppendResult{{Seq: 1}}},
				{advance: time.Minute, reqs: []AppendRequest{dedupReq("seg", "m1", time.Minute)}, want: []AppendResult{{Seq: 2}}},
				{advance: 30 * time.Second, reqs: []AppendRequest{dedupReq("seg", "m1", time.Minute)}, want: []AppendResult{{Seq: 2, Duplicate: true}}},
			},
		},
		{
			name: "default window is a day",
			steps: []step{
				{reqs: []AppendRequest{dedupReq("seg", "m1", 0)}, want: []AppendResult{{Seq: 1}}},
				{advance: 23 * time.Hour, reqs: []AppendRequest{dedupReq("seg", "m1", 0)}, want: []AppendResult{{Seq: 1, Duplicate: true}}},
				{advance: time.Hour, reqs: []AppendRequest{dedupReq("seg", "m1", 0)}, want: []AppendResult{{Seq: 2}}},
			},
		},
		{
			name: "keys are per connection",
			steps: []step{
				{reqs: []AppendRequest{dedupReq("seg", "m1", 0), dedupReq("sf", "m1", 0)}, want: []AppendResult{{Seq: 1}, {Seq: 2}}},
			},
		},
		{
			name: "no key, no dedup",
			steps: []step{
				{reqs: []AppendRequest{req("seg", `{}`), req("seg", `{}`)}, want: []AppendResult{{Seq: 1}, {Seq: 2}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
			opts := testOptions()
			opts.now = clock.now
			opts.InMemory = true // many small stores: spare the disk
			s := openAt(t, "", opts)
			for i, st := range tt.steps {
				clock.advance(st.advance)
				got := mustAppend(t, s, st.reqs...)
				for j, w := range st.want {
					if got[j].Seq != w.Seq || got[j].Duplicate != w.Duplicate || got[j].ID != event.FormatID(w.Seq) {
						t.Errorf("step %d result %d = %+v, want %+v", i, j, got[j], w)
					}
				}
			}
		})
	}
}

// TestDedupAcrossCallsInOneBatch queues two calls with the same key so that
// they land in one transaction: the second must see the first's pending
// dedup record.
func TestDedupAcrossCallsInOneBatch(t *testing.T) {
	s, _ := openTest(t)
	l := (*badgerLog)(s)
	a, err := l.prepareAppend(context.Background(), []AppendRequest{dedupReq("seg", "m1", 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.prepareAppend(context.Background(), []AppendRequest{dedupReq("seg", "m1", 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range submitTogether(t, s, a, b) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if a.results[0].Duplicate || !b.results[0].Duplicate || b.results[0].ID != a.results[0].ID {
		t.Fatalf("results = %+v then %+v; want the second a duplicate of the first", a.results, b.results)
	}
	if got := s.Log().LastSeq(); got != 1 {
		t.Errorf("LastSeq = %d, want 1", got)
	}
}

// TestDedupSurvivesReopen checks the dedup record is durable with the event.
func TestDedupSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, dedupReq("seg", "m1", 0))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAt(t, dir, testOptions())
	if got := mustAppend(t, s2, dedupReq("seg", "m1", 0)); !got[0].Duplicate || got[0].Seq != 1 {
		t.Fatalf("after reopen: %+v, want a duplicate of seq 1", got[0])
	}
}

// TestDedupRecordExpires checks the record also carries a Badger TTL, so
// that dedup keys do not pile up forever.
func TestDedupRecordExpires(t *testing.T) {
	s, _ := openTest(t)
	mustAppend(t, s, dedupReq("seg", "m1", 90*time.Second))
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(dedupKey("seg", "m1"))
		if err != nil {
			return err
		}
		// Rounded up to whole seconds; the lower bound only shows a TTL
		// of the window's order was set.
		left := time.Until(time.Unix(int64(item.ExpiresAt()), 0))
		if item.ExpiresAt() == 0 || left < 30*time.Second || left > 91*time.Second {
			t.Errorf("dedup record expires in %s, want at most 91s", left)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
