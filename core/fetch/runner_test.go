package fetch

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

func cursor(t *testing.T, st store.Store, conn, entity string) string {
	t.Helper()
	v, err := st.KV().Get(context.Background(), CursorKey(conn, entity))
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(v)
}

func TestFetchToTheEnd(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 2500, "orders": 30})
	conn := newConn(t, "files", src)
	obs := &observed{}
	r := newRunner(t, st, Options{BatchLimit: 1000, Observer: obs}, conn)

	job, err := r.Run(ctx, conn, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if job.Status != StatusCompleted || job.Records != 2530 || job.Batches != 4 || job.Bytes == 0 || job.Finished.IsZero() {
		t.Fatalf("job %+v", job)
	}
	if got := src.CountLogged(ctx, "contacts"); got != 2500 {
		t.Errorf("log holds %d contacts, want 2500", got)
	}
	if c := cursor(t, st, "files", "contacts"); c != "2500" {
		t.Errorf("contacts cursor %q, want 2500", c)
	}
	if obs.entities["files/contacts"] != 2500 || obs.entities["files/orders"] != 30 {
		t.Errorf("observer saw %v", obs.entities)
	}

	// Nothing new: one empty call per entity, no writes.
	job, err = r.Run(ctx, conn, RunOptions{})
	if err != nil || job.Records != 0 {
		t.Fatalf("second job %+v, %v", job, err)
	}
	// New records at the source: only they are fetched.
	src.Mu.Lock()
	src.Total["contacts"] = 2510
	src.Mu.Unlock()
	job, err = r.Run(ctx, conn, RunOptions{Entities: []string{"contacts"}})
	if err != nil || job.Records != 10 {
		t.Fatalf("third job %+v, %v", job, err)
	}
	jobs, err := r.Jobs(ctx, "files", 0)
	if err != nil || len(jobs) != 3 || jobs[0].ID != job.ID {
		t.Fatalf("jobs %+v, %v (want 3, newest first)", jobs, err)
	}
}

func TestErrorKeepsCommittedCursor(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 2500})
	src.FailAt = 2
	conn := newConn(t, "files", src)
	r := newRunner(t, st, Options{BatchLimit: 1000}, conn)

	job, err := r.Run(ctx, conn, RunOptions{})
	if err == nil || job.Status != StatusFailed || !strings.Contains(job.Error, "source unavailable") || job.Records != 1000 {
		t.Fatalf("job %+v, err %v: want failed after 1000 records with the source's error", job, err)
	}
	stored, err := r.Job(ctx, "files", job.ID)
	if err != nil || stored.Status != StatusFailed || stored.Error != job.Error {
		t.Fatalf("stored job %+v, %v", stored, err)
	}
	if c := cursor(t, st, "files", "contacts"); c != "1000" {
		t.Fatalf("cursor after failure %q, want 1000", c)
	}
	job, err = r.Run(ctx, conn, RunOptions{})
	if err != nil || job.Records != 1500 {
		t.Fatalf("retry job %+v, %v: want the remaining 1500", job, err)
	}
	if got := src.CountLogged(ctx, "contacts"); got != 2500 {
		t.Errorf("log holds %d contacts, want 2500 without duplicates", got)
	}
}

// failingLog fails the nth AppendWithKV and records whether any cursor was
// written outside an append.
type failingStore struct {
	store.Store
	mu      sync.Mutex
	appends int
	failAt  int
	kvSets  []string
}

type failingLog struct {
	store.Log
	s *failingStore
}

type watchedKV struct {
	store.KV
	s *failingStore
}

func (f *failingStore) Log() store.Log { return failingLog{f.Store.Log(), f} }
func (f *failingStore) KV() store.KV   { return watchedKV{f.Store.KV(), f} }

func (l failingLog) AppendWithKV(ctx context.Context, reqs []store.AppendRequest, kv []store.KVWrite) ([]store.AppendResult, error) {
	l.s.mu.Lock()
	l.s.appends++
	fail := l.s.appends == l.s.failAt
	l.s.mu.Unlock()
	if fail {
		return nil, errors.New("disk full")
	}
	return l.Log.AppendWithKV(ctx, reqs, kv)
}

func (k watchedKV) Set(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	k.s.mu.Lock()
	k.s.kvSets = append(k.s.kvSets, key)
	k.s.mu.Unlock()
	return k.KV.Set(ctx, key, v, ttl)
}

func TestCursorNeverBeforeRecords(t *testing.T) {
	ctx := context.Background()
	base := openStore(t)
	st := &failingStore{Store: base, failAt: 2}
	src := newSource(t, base, "files", map[string]int{"contacts": 3000})
	conn := newConn(t, "files", src)
	r := newRunner(t, st, Options{BatchLimit: 1000}, conn)

	job, err := r.Run(ctx, conn, RunOptions{})
	if err == nil || !strings.Contains(job.Error, "disk full") {
		t.Fatalf("job %+v: want the store error", job)
	}
	if c := cursor(t, base, "files", "contacts"); c != "1000" {
		t.Errorf("cursor %q after the second write failed, want 1000", c)
	}
	if got := src.CountLogged(ctx, "contacts"); got != 1000 {
		t.Errorf("log holds %d, want 1000", got)
	}
	for _, k := range st.kvSets {
		if strings.HasSuffix(k, "/cursor") {
			t.Errorf("cursor %s written on its own, outside the append of its records", k)
		}
	}
	src.Mu.Lock()
	calls := src.Calls
	src.Mu.Unlock()
	if calls != 2 {
		t.Errorf("connector called %d times, want 2: no call after a failed commit", calls)
	}
}

func TestChunkedBatch(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 250})
	conn := newConn(t, "files", src)
	r := newRunner(t, st, Options{BatchLimit: 1000, MaxWriteEvents: 100}, conn)
	job, err := r.Run(ctx, conn, RunOptions{})
	if err != nil || job.Records != 250 {
		t.Fatalf("job %+v %v", job, err)
	}
	if c := cursor(t, st, "files", "contacts"); c != "250" {
		t.Errorf("cursor %q", c)
	}
	if got := src.CountLogged(ctx, "contacts"); got != 250 {
		t.Errorf("log holds %d", got)
	}
}

func TestNoProgressFails(t *testing.T) {
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 10})
	src.Stuck = true
	conn := newConn(t, "files", src)
	r := newRunner(t, st, Options{}, conn)
	job, err := r.Run(context.Background(), conn, RunOptions{})
	if err == nil || !strings.Contains(job.Error, "without records or a new cursor") {
		t.Fatalf("job %+v", job)
	}
}

// TestProgressSaved: the stored record of a running job follows its batches,
// at most once per ProgressInterval.
func TestProgressSaved(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 5000})
	conn := newConn(t, "files", src)
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	r := newRunner(t, st, Options{BatchLimit: 1000, Now: clock, ProgressInterval: 500 * time.Millisecond}, conn)
	var seen []int64
	src.OnFetch = func(call int) {
		jobs, _ := listJobs(ctx, st.KV(), "files")
		seen = append(seen, jobs[len(jobs)-1].Records)
		advance(300 * time.Millisecond)
	}
	job, err := r.Run(ctx, conn, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Batches commit at 0.3s (not saved: <0.5s), 0.6s (saved), 0.9s (not),
	// 1.2s (saved), 1.5s.
	want := []int64{0, 0, 2000, 2000, 4000}
	if len(seen) != len(want) {
		t.Fatalf("seen %v", seen)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("stored records before each call %v, want %v", seen, want)
		}
	}
	if job.Rate != 5000/1.5 {
		t.Errorf("rate %v, want %v", job.Rate, 5000/1.5)
	}
}

func TestOneJobPerConnection(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 10})
	src.Block = make(chan struct{})
	src.Started = make(chan struct{}, 1)
	conn := newConn(t, "files", src)
	r := newRunner(t, st, Options{}, conn)

	first, err := r.Start(ctx, "files", RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-src.Started
	var busy *ErrBusy
	if _, err := r.Start(ctx, "files", RunOptions{}); !errors.As(err, &busy) || busy.Job.ID != first.ID {
		t.Fatalf("second start: %v, want ErrBusy naming %s", err, first.ID)
	}
	if err := r.FetchScheduled(ctx, "files", time.Now()); !errors.As(err, &busy) {
		t.Fatalf("scheduled fetch during a manual one: %v, want ErrBusy", err)
	}
	if j, ok := r.Running("files"); !ok || j.ID != first.ID {
		t.Fatalf("running %+v %v", j, ok)
	}
	close(src.Block)
	waitIdle(t, r, "files")
	done, err := r.Job(ctx, "files", first.ID)
	if err != nil || done.Status != StatusCompleted || done.Records != 10 {
		t.Fatalf("job after close %+v %v", done, err)
	}
}

func TestMetadataOnly(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 10})
	src.Meta = &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{{Name: "contacts", Fields: []pluginsdk.Field{{Name: "email", Type: "string", Required: true}}}}}
	conn := newConn(t, "files", src)
	obs := &observed{}
	r := newRunner(t, st, Options{Observer: obs}, conn)
	job, err := r.Run(ctx, conn, RunOptions{MetadataOnly: true})
	if err != nil || job.Records != 0 || !job.MetadataOnly {
		t.Fatalf("job %+v %v", job, err)
	}
	md, err := r.StoredMetadata(ctx, "files")
	if err != nil || len(md.Entities) != 1 || md.Entities[0].Fields[0].Name != "email" {
		t.Fatalf("metadata %+v %v", md, err)
	}
	if obs.meta == nil {
		t.Error("observer not given the metadata")
	}
	if src.Calls != 0 {
		t.Errorf("metadata-only job fetched records (%d calls)", src.Calls)
	}
	noFetch := newSource(t, st, "out", map[string]int{})
	noFetch.NoFetch = true
	out := newConn(t, "out", noFetch)
	if _, err := r.Run(ctx, out, RunOptions{}); !errors.Is(err, ErrNotFetchable) {
		t.Errorf("fetch of a non-pull connection: %v", err)
	}
}

func TestInterruptedJobMarkedFailed(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	j := &Job{ID: "01J0000000000000000000000A", Connection: "files", Status: StatusRunning, Started: time.Now()}
	if err := saveJob(ctx, st.KV(), j); err != nil {
		t.Fatal(err)
	}
	r := newRunner(t, st, Options{})
	got, err := r.Job(ctx, "files", j.ID)
	if err != nil || got.Status != StatusFailed || !strings.Contains(got.Error, "interrupted") {
		t.Fatalf("job %+v %v", got, err)
	}
}

func TestPruneJobs(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	src := newSource(t, st, "files", map[string]int{"contacts": 1})
	conn := newConn(t, "files", src)
	r := newRunner(t, st, Options{}, conn)
	for range KeptJobs + 3 {
		if _, err := r.Run(ctx, conn, RunOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := listJobs(ctx, st.KV(), "files")
	if err != nil || len(jobs) != KeptJobs {
		t.Fatalf("%d jobs kept, want %d (%v)", len(jobs), KeptJobs, err)
	}
}

// waitIdle waits until no job of connection runs.
func waitIdle(t *testing.T, r *Runner, connection string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if _, ok := r.Running(connection); !ok {
			return
		}
	}
	t.Fatalf("job of %s still running", connection)
}
