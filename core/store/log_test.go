package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/junctionhub/junction/core/event"
)

func TestAppendReadOrder(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	occurred := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CET", 3600))
	mustAppend(t, s, AppendRequest{Connection: "seg", Type: "track", DedupKey: "m1", OccurredAt: occurred, Payload: []byte(`{"n":1}`)})
	mustAppend(t, s, req("seg", `{"n":2}`), req("sf", `{"n":3}`))
	mustAppend(t, s, req("seg", `{"n":4}`), req("seg", ``), req("seg", `[5]`))

	all, err := s.Log().Read(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantPayloads := []string{`{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":4}`, ``, `[5]`}
	if len(all) != len(wantPayloads) {
		t.Fatalf("Read returned %d events, want %d", len(all), len(wantPayloads))
	}
	for i, e := range all {
		seq := uint64(i + 1)
		if e.Seq != seq || e.ID != event.FormatID(seq) || string(e.Payload) != wantPayloads[i] {
			t.Errorf("event %d = seq %d id %s payload %s; want seq %d payload %s", i, e.Seq, e.ID, e.Payload, seq, wantPayloads[i])
		}
		if e.ReceivedAt.IsZero() || e.ReceivedAt.Location() != time.UTC {
			t.Errorf("event %d: ReceivedAt %v, want a UTC time", i, e.ReceivedAt)
		}
	}
	first := all[0]
	if first.Connection != "seg" || first.Type != "track" || first.DedupKey != "m1" || !first.OccurredAt.Equal(occurred) {
		t.Errorf("first event = %+v", first)
	}
	if !all[1].OccurredAt.IsZero() {
		t.Errorf("OccurredAt of an event without one = %v", all[1].OccurredAt)
	}
	if got := s.Log().LastSeq(); got != 6 {
		t.Errorf("LastSeq = %d, want 6", got)
	}

	tests := []struct {
		after    uint64
		limit    int
		wantSeqs []uint64
	}{
		{after: 0, limit: 2, wantSeqs: []uint64{1, 2}},
		{after: 2, limit: 3, wantSeqs: []uint64{3, 4, 5}},
		{after: 5, limit: 10, wantSeqs: []uint64{6}},
		{after: 6, limit: 10, wantSeqs: nil},
		{after: 100, limit: 10, wantSeqs: nil},
		{after: math.MaxUint64, limit: 10, wantSeqs: nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("after=%d,limit=%d", tt.after, tt.limit), func(t *testing.T) {
			got, err := s.Log().Read(ctx, tt.after, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var seqs []uint64
			for _, e := range got {
				seqs = append(seqs, e.Seq)
			}
			if fmt.Sprint(seqs) != fmt.Sprint(tt.wantSeqs) {
				t.Errorf("seqs = %v, want %v", seqs, tt.wantSeqs)
			}
		})
	}

	got, err := s.Log().Get(ctx, event.FormatID(3))
	if err != nil || string(got.Payload) != `{"n":3}` || got.Connection != "sf" {
		t.Errorf("Get(3) = %+v, %v", got, err)
	}
	for _, id := range []string{event.FormatID(99), "nonsense"} {
		if _, err := s.Log().Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want ErrNotFound", id, err)
		}
	}
}

func TestAppendRejectsInvalid(t *testing.T) {
	s, _ := openTest(t)
	tests := []struct {
		name string
		reqs []AppendRequest
		kv   []KVWrite
		want string
	}{
		{name: "no connection", reqs: []AppendRequest{{Payload: []byte(`{}`)}}, want: "empty connection"},
		{name: "bad JSON", reqs: []AppendRequest{req("c", `{"a":`)}, want: "not valid JSON"},
		{name: "empty KV key", reqs: []AppendRequest{req("c", `{}`)}, kv: []KVWrite{{Value: []byte("x")}}, want: "empty key"},
		{name: "negative TTL", reqs: []AppendRequest{req("c", `{}`)}, kv: []KVWrite{{Key: "k", Value: []byte("x"), TTL: -time.Second}}, want: "negative TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Log().AppendWithKV(context.Background(), tt.reqs, tt.kv)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if got := s.Log().LastSeq(); got != 0 {
		t.Errorf("LastSeq after rejected appends = %d, want 0", got)
	}
}

func TestAppendConcurrent(t *testing.T) {
	s, _ := openTest(t)
	const writers, each = 64, 40
	seqs := make([][]uint64, writers)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				res, err := s.Log().Append(context.Background(), []AppendRequest{req(fmt.Sprint("w", w), fmt.Sprintf(`{"w":%d,"i":%d}`, w, i))})
				if err != nil {
					errs <- err
					return
				}
				seqs[w] = append(seqs[w], res[0].Seq)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := make(map[uint64]bool)
	for w, ss := range seqs {
		for i, seq := range ss {
			if seen[seq] {
				t.Fatalf("seq %d handed out twice", seq)
			}
			seen[seq] = true
			if i > 0 && seq <= ss[i-1] {
				t.Errorf("writer %d: seq %d after %d", w, seq, ss[i-1])
			}
		}
	}
	all, err := s.Log().Read(context.Background(), 0, writers*each+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("log holds %d events, want %d", len(all), writers*each)
	}
	for i, e := range all {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d: want contiguous sequences", i, e.Seq)
		}
	}
}

func TestAppendSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, req("c", `{"n":1}`), req("c", `{"n":2}`))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := openAt(t, dir, testOptions())
	if got := s2.Log().LastSeq(); got != 2 {
		t.Fatalf("LastSeq after reopen = %d, want 2", got)
	}
	res := mustAppend(t, s2, req("c", `{"n":3}`))
	if res[0].Seq != 3 {
		t.Errorf("first append after reopen got seq %d, want 3", res[0].Seq)
	}

	// A copy of the directory taken while the store is open stands in for
	// a crash: no Close, no memtable flush; what was acknowledged must be
	// recovered from what is on disk.
	crashed := filepath.Join(t.TempDir(), "copy")
	copyDirSparse(t, dir, crashed)
	s3 := openAt(t, crashed, testOptions())
	all, err := s3.Log().Read(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || string(all[2].Payload) != `{"n":3}` {
		t.Fatalf("recovered %d events (%v), want 3", len(all), all)
	}
}

func TestAppendCancelled(t *testing.T) {
	s, _ := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Log().Append(ctx, []AppendRequest{req("c", `{}`)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context: %v", err)
	}
	if got := s.Log().LastSeq(); got != 0 {
		t.Errorf("LastSeq = %d, want 0", got)
	}
}

func TestNotify(t *testing.T) {
	s, _ := openTest(t)
	select {
	case <-s.Log().Notify():
		t.Fatal("notified before any append")
	default:
	}
	mustAppend(t, s, req("c", `{}`))
	select {
	case <-s.Log().Notify():
	default:
		t.Fatal("no notification after a committed append")
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	if _, err := s.Log().Append(ctx, []AppendRequest{req("c", `{}`)}); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
	if _, err := s.Log().Read(ctx, 0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := s.KV().Set(ctx, "k", nil, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("KV Set after Close: %v", err)
	}
}

func TestAppendWithKV(t *testing.T) {
	s, _ := openTest(t)
	ctx := context.Background()
	if err := s.KV().Set(ctx, "old", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
	res, err := s.Log().AppendWithKV(ctx,
		[]AppendRequest{req("sftp", `{"line":1}`), req("sftp", `{"line":2}`)},
		[]KVWrite{{Key: "cursor/sftp", Value: []byte("file.csv:2")}, {Key: "old"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[1].Seq != 2 {
		t.Fatalf("results = %+v", res)
	}
	if v, err := s.KV().Get(ctx, "cursor/sftp"); err != nil || string(v) != "file.csv:2" {
		t.Errorf("cursor = %q, %v", v, err)
	}
	if _, err := s.KV().Get(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted key: %v, want ErrNotFound", err)
	}

	// A call that fails leaves neither its events nor its KV writes.
	_, err = s.Log().AppendWithKV(ctx, []AppendRequest{req("sftp", `{"line":3}`), req("sftp", `{bad`)},
		[]KVWrite{{Key: "cursor/sftp", Value: []byte("file.csv:4")}})
	if err == nil {
		t.Fatal("append with an invalid payload succeeded")
	}
	if v, _ := s.KV().Get(ctx, "cursor/sftp"); string(v) != "file.csv:2" {
		t.Errorf("cursor after failed append = %q, want file.csv:2", v)
	}
	if got := s.Log().LastSeq(); got != 2 {
		t.Errorf("LastSeq after failed append = %d, want 2", got)
	}

	// KV writes alone are committed too.
	if _, err := s.Log().AppendWithKV(ctx, nil, []KVWrite{{Key: "cursor/sftp", Value: []byte("done")}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.KV().Get(ctx, "cursor/sftp"); string(v) != "done" {
		t.Errorf("cursor = %q, want done", v)
	}
}

// TestBatchSplitting queues more than one Badger transaction can hold, so
// the committer must split the batch, keeping each call's events together,
// and an op too large for any transaction fails alone.
func TestBatchSplitting(t *testing.T) {
	tests := []struct {
		name     string
		estimate bool // false: disable the size estimate, so Badger's ErrTxnTooBig splits
	}{
		{name: "by estimate", estimate: true},
		{name: "by ErrTxnTooBig", estimate: false},
	}
	payload := []byte(`{"p":"` + strings.Repeat("x", 1000) + `"}`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTest(t)
			if !tt.estimate {
				s.commit.maxCount, s.commit.maxSize = 1<<62, 1<<62
			}
			// Sized from Badger's own limit, which depends on the memtable
			// size: 12 calls hold about two transactions' worth of entries.
			const calls = 12
			per := int(s.db.MaxBatchCount()/6) + 1
			var ops []interface {
				op
				wait() error
			}
			var appends []*appendOp
			for i := range calls {
				reqs := make([]AppendRequest, per)
				for j := range reqs {
					reqs[j] = AppendRequest{Connection: fmt.Sprint("c", i), Payload: payload}
				}
				o, err := (*badgerLog)(s).prepareAppend(context.Background(), reqs, nil)
				if err != nil {
					t.Fatal(err)
				}
				ops = append(ops, o)
				appends = append(appends, o)
			}
			huge := make([]AppendRequest, s.db.MaxBatchCount()+1) // alone more than a transaction holds
			for j := range huge {
				huge[j] = AppendRequest{Connection: "huge", Payload: payload}
			}
			hugeOp, err := (*badgerLog)(s).prepareAppend(context.Background(), huge, nil)
			if err != nil {
				t.Fatal(err)
			}
			ops = append(ops[:6:6], append([]interface {
				op
				wait() error
			}{hugeOp}, ops[6:]...)...)

			errs := submitTogether(t, s, ops...)
			for i, err := range errs {
				if ops[i] == hugeOp {
					if !errors.Is(err, badger.ErrTxnTooBig) {
						t.Errorf("huge op: error %v, want ErrTxnTooBig", err)
					}
					continue
				}
				if err != nil {
					t.Errorf("op %d: %v", i, err)
				}
			}
			for i, o := range appends {
				first := o.results[0].Seq
				for j, r := range o.results {
					if r.Seq != first+uint64(j) {
						t.Fatalf("call %d: seq %d at %d, want contiguous from %d", i, r.Seq, j, first)
					}
				}
			}
			all := readAll(t, s)
			if len(all) != calls*per {
				t.Fatalf("log holds %d events, want %d", len(all), calls*per)
			}
			for i, e := range all {
				if e.Connection == "huge" || !bytes.Equal(e.Payload, payload) {
					t.Fatalf("event %d = %s %q", i, e.Connection, e.Payload[:10])
				}
			}
		})
	}
}

func readAll(t *testing.T, s *Badger) []event.Event {
	t.Helper()
	var all []event.Event
	for {
		page, err := s.Log().Read(context.Background(), uint64(len(all)), maxReadLimit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}

// copyDirSparse copies the files of dir, skipping holes: Badger's value log
// and memtable files are sparse files of gigabytes holding a few kilobytes.
func copyDirSparse(t *testing.T, dir, to string) {
	t.Helper()
	const seekData, seekHole = 3, 4 // lseek whence values on Linux
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if !de.Type().IsRegular() {
			continue
		}
		src, err := os.Open(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		st, _ := src.Stat()
		dst, err := os.OpenFile(filepath.Join(to, de.Name()), os.O_CREATE|os.O_WRONLY, st.Mode().Perm())
		if err != nil {
			t.Fatal(err)
		}
		if err := dst.Truncate(st.Size()); err != nil {
			t.Fatal(err)
		}
		for off := int64(0); off < st.Size(); {
			start, err := src.Seek(off, seekData)
			if errors.Is(err, syscall.ENXIO) {
				break // only a hole after off
			}
			end := st.Size()
			if err != nil {
				start = off // no SEEK_DATA here: copy the rest as it is
			} else if e, err := src.Seek(start, seekHole); err == nil {
				end = e
			}
			if _, err := io.Copy(io.NewOffsetWriter(dst, start), io.NewSectionReader(src, start, end-start)); err != nil {
				t.Fatal(err)
			}
			off = end
		}
		src.Close()
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
