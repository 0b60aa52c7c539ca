package sftp

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/internal/records/fetchtest"
	"github.com/junctionhub/junction/builtin/sftp/sftptest"
	"github.com/junctionhub/junction/pluginsdk"
)

// writeGen writes a generated CSV of rows rows to p on the server.
func writeGen(t *testing.T, srv *sftptest.Server, p string, rows int64, mtime time.Time) {
	t.Helper()
	var sb strings.Builder
	if _, err := io.Copy(&sb, fetchtest.GenCSV{Rows: rows}.Reader()); err != nil {
		t.Fatal(err)
	}
	writeFile(t, srv, p, sb.String(), mtime)
}

// opens counts the opens of each path for reading.
type opens struct {
	mu sync.Mutex
	n  map[string]int
}

func countOpens(srv *sftptest.Server) *opens {
	o := &opens{n: map[string]int{}}
	srv.SetHook(func(method, p string) error {
		if method == "Get" {
			o.mu.Lock()
			o.n[p]++
			o.mu.Unlock()
		}
		return nil
	})
	return o
}

func (o *opens) of(p string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[p]
}

// TestImportExactlyOnceAcrossRestart imports a 100k-row CSV in batches of
// 1000, committing each to a real store; midway a batch is fetched and
// never committed (the process dies before the commit), then the store and
// the connector are re-created from the committed cursor. Every line must
// be in the log exactly once, and the file must not be read from the start
// again.
func TestImportExactlyOnceAcrossRestart(t *testing.T) {
	srv := startServer(t)
	const rows = 100_000
	writeGen(t, srv, "/inbound/big.csv", rows, time.Now().Add(-2*time.Hour))
	writeFile(t, srv, "/inbound/small.csv", "id,email\n1,a@example.com\n2,b@example.com\n", time.Time{})
	o := countOpens(srv)
	cfg := baseConfig(srv, nil)
	h := fetchtest.Open(t)
	ctx := context.Background()

	c1 := connect(t, cfg, basicAuth)
	if n, more, err := h.Run(ctx, c1, "profiles", 1000, 40); err != nil || !more || n != 40 {
		t.Fatalf("first run: %d batches, more %v, %v", n, more, err)
	}
	lost, err := c1.Fetch(ctx, &pluginsdk.FetchRequest{Entity: "profiles", Cursor: h.Cursor("profiles"), Limit: 1000})
	if err != nil || len(lost.Events) != 1000 {
		t.Fatalf("uncommitted fetch: %v", err)
	}
	_ = c1.Close()
	h.Reopen()

	c2 := connect(t, cfg, basicAuth)
	n, more, err := h.Run(ctx, c2, "profiles", 1000, 0)
	if err != nil || more {
		t.Fatalf("second run: %d batches, more %v, %v", n, more, err)
	}
	recs := h.Records()
	if len(recs) != rows+2 {
		t.Errorf("%d events, want %d", len(recs), rows+2)
	}
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/big.csv", 2, rows+1)
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/small.csv", 2, 3)
	for _, r := range recs {
		if r.File == "/inbound/big.csv" && r.Line == 50_002 {
			if r.Entity != "profiles" || r.Record["email"] != "user0000050001@example.com" || r.Record["id"] != "0000050001" {
				t.Errorf("line 50002: %s", r.Raw)
			}
		}
	}
	// Opened to check it, to read it, and once more after the restart: at
	// the committed offset, not from the start.
	if got := o.of("/inbound/big.csv"); got != 3 {
		t.Errorf("big.csv opened %d times, want 3", got)
	}
	// Nothing new: one empty batch.
	if n, more, err := h.Run(ctx, c2, "profiles", 1000, 0); err != nil || more || n != 1 || len(h.Records()) != rows+2 {
		t.Errorf("run with nothing new: %d batches, more %v, %v, %d events", n, more, err, len(h.Records()))
	}
}

// TestFileNotReReadAfterRestart: without archive_dir imported files stay
// in the directory; a restarted connector must skip them, import only new
// files, import a changed file as a new one, and forget deleted files.
func TestFileNotReReadAfterRestart(t *testing.T) {
	srv := startServer(t)
	cfg := baseConfig(srv, nil)
	h := fetchtest.Open(t)
	ctx := context.Background()
	writeFile(t, srv, "/inbound/a.csv", "id\n1\n2\n", time.Now().Add(-3*time.Hour))
	writeFile(t, srv, "/inbound/notes.txt", "not imported\n", time.Time{})
	writeFile(t, srv, "/inbound/.hidden.csv", "id\n1\n", time.Time{})

	run := func() {
		t.Helper()
		c := connect(t, cfg, basicAuth)
		if _, _, err := h.Run(ctx, c, "profiles", 100, 0); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
		h.Reopen()
	}
	run()
	run()
	recs := h.Records()
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/a.csv", 2, 3)
	if len(recs) != 2 {
		t.Fatalf("%d events after two runs, want 2", len(recs))
	}

	writeFile(t, srv, "/inbound/b.csv", "id\n3\n", time.Now().Add(-2*time.Hour))
	run()
	recs = h.Records()
	if len(recs) != 3 || recs[2].File != "/inbound/b.csv" {
		t.Fatalf("after adding b.csv: %d events, last %s", len(recs), recs[len(recs)-1].Raw)
	}

	// A changed file is a new file; a removed one is forgotten.
	writeFile(t, srv, "/inbound/a.csv", "id\n1\n2\n4\n", time.Now().Add(-time.Hour))
	if err := os.Remove(srv.Local("/inbound/b.csv")); err != nil {
		t.Fatal(err)
	}
	run()
	recs = h.Records()
	if len(recs) != 6 || fetchtest.LineCounts(recs, "/inbound/a.csv")[4] != 1 {
		t.Fatalf("after changing a.csv: %d events", len(recs))
	}
	if cur := string(h.Cursor("profiles")); strings.Contains(cur, "b.csv") || !strings.Contains(cur, "a.csv") {
		t.Errorf("cursor %s: want a.csv remembered, b.csv forgotten", cur)
	}
}

// TestNoDuplicatesWhenConnectionDropsBeforeArchive: the connection drops
// exactly when the imported file is to be moved to the archive. The file
// is still in the inbound directory after the restart, yet it must not be
// imported again: the committed cursor lists it for archiving.
func TestNoDuplicatesWhenConnectionDropsBeforeArchive(t *testing.T) {
	srv := startServer(t)
	cfg := baseConfig(srv, entityEdit(func(e map[string]any) { e["archive_dir"] = "/inbound/archive" }))
	writeFile(t, srv, "/inbound/a.csv", "id\n1\n2\n3\n", time.Now().Add(-2*time.Hour))
	writeFile(t, srv, "/inbound/b.csv", "id\n4\n5\n", time.Now().Add(-time.Hour))
	var once sync.Once
	srv.SetHook(func(method, _ string) error {
		if method == "Rename" {
			var dropped bool
			once.Do(func() { srv.DropConnections(); dropped = true })
			if dropped {
				return errors.New("connection dropped")
			}
		}
		return nil
	})
	h := fetchtest.Open(t)
	ctx := context.Background()
	c1 := connect(t, cfg, basicAuth)
	_, _, err := h.Run(ctx, c1, "profiles", 100, 0)
	if !pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), "archive /inbound/a.csv") {
		t.Fatalf("run: %v, want a retryable archive error", err)
	}
	if !exists(srv, "/inbound/a.csv") {
		t.Fatal("a.csv was moved although the connection dropped")
	}
	_ = c1.Close()
	h.Reopen()

	c2 := connect(t, cfg, basicAuth)
	if _, more, err := h.Run(ctx, c2, "profiles", 100, 0); err != nil || more {
		t.Fatalf("run after restart: more %v, %v", more, err)
	}
	recs := h.Records()
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/a.csv", 2, 4)
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/b.csv", 2, 3)
	for _, p := range []string{"/inbound/archive/a.csv", "/inbound/archive/b.csv"} {
		if !exists(srv, p) {
			t.Errorf("%s missing", p)
		}
	}
	if exists(srv, "/inbound/a.csv") || exists(srv, "/inbound/b.csv") {
		t.Error("imported files left in /inbound")
	}
}

// TestNoDuplicatesWhenCrashAfterArchive: the process dies after moving a
// file to the archive but before committing the batch that followed the
// move. The restarted connector repeats the move from the committed cursor
// and must find the file already archived.
func TestNoDuplicatesWhenCrashAfterArchive(t *testing.T) {
	srv := startServer(t)
	cfg := baseConfig(srv, entityEdit(func(e map[string]any) { e["archive_dir"] = "/inbound/archive" }))
	writeFile(t, srv, "/inbound/a.csv", "id\n1\n2\n", time.Now().Add(-2*time.Hour))
	writeFile(t, srv, "/inbound/b.csv", "id\n3\n", time.Now().Add(-time.Hour))
	h := fetchtest.Open(t)
	ctx := context.Background()
	c1 := connect(t, cfg, basicAuth)
	if _, _, err := h.Run(ctx, c1, "profiles", 100, 1); err != nil {
		t.Fatal(err)
	}
	// Moves a.csv, reads b.csv, then "crashes" before the commit.
	if res, err := c1.Fetch(ctx, &pluginsdk.FetchRequest{Entity: "profiles", Cursor: h.Cursor("profiles")}); err != nil || len(res.Events) != 1 {
		t.Fatalf("fetch: %v", err)
	}
	if !exists(srv, "/inbound/archive/a.csv") {
		t.Fatal("a.csv not archived")
	}
	_ = c1.Close()
	h.Reopen()
	c2 := connect(t, cfg, basicAuth)
	if _, _, err := h.Run(ctx, c2, "profiles", 100, 0); err != nil {
		t.Fatal(err)
	}
	recs := h.Records()
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/a.csv", 2, 3)
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/b.csv", 2, 2)
	if !exists(srv, "/inbound/archive/b.csv") {
		t.Error("b.csv not archived")
	}
}

// TestArchiveNameTaken: a file of the same name is already archived; the
// new one is archived under its name plus its modification time.
func TestArchiveNameTaken(t *testing.T) {
	srv := startServer(t)
	cfg := baseConfig(srv, entityEdit(func(e map[string]any) { e["archive_dir"] = "/archive" }))
	mtime := time.Unix(1_700_000_000, 0)
	writeFile(t, srv, "/inbound/a.csv", "id\n1\n", mtime)
	if err := os.Mkdir(srv.Local("/archive"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, srv, "/archive/a.csv", "id\n0\n", time.Time{})
	h := fetchtest.Open(t)
	if _, _, err := h.Run(context.Background(), connect(t, cfg, basicAuth), "profiles", 100, 0); err != nil {
		t.Fatal(err)
	}
	if got := readServerFile(t, "/archive/a.csv.1700000000", srv.Local); got != "id\n1\n" {
		t.Errorf("archived copy %q", got)
	}
	if got := readServerFile(t, "/archive/a.csv", srv.Local); got != "id\n0\n" {
		t.Errorf("older archived file now %q", got)
	}
}

// TestReconnect: the server drops every connection mid-import. The same
// connector must dial again and finish, with every line once.
func TestReconnect(t *testing.T) {
	srv := startServer(t)
	writeGen(t, srv, "/inbound/big.csv", 20_000, time.Time{}) // 1.5 MB: more than the read-ahead
	h := fetchtest.Open(t)
	ctx := context.Background()
	c := connect(t, baseConfig(srv, nil), basicAuth)
	if _, _, err := h.Run(ctx, c, "profiles", 1000, 2); err != nil {
		t.Fatal(err)
	}
	// Between calls: the file kept open is dead; the next batches (after
	// the read-ahead buffer) reopen it at the cursor over a new connection,
	// without failing.
	srv.DropConnections()
	if _, _, err := h.Run(ctx, c, "profiles", 1000, 8); err != nil {
		t.Fatalf("batch after a dropped connection: %v", err)
	}
	// During a call (of a new connector, which has no file open): that
	// call fails, retryable; the next one reconnects.
	var once sync.Once
	srv.SetHook(func(method, _ string) error {
		if method == "Get" {
			fail := false
			once.Do(func() { srv.DropConnections(); fail = true })
			if fail {
				return errors.New("dropped")
			}
		}
		return nil
	})
	c2 := connect(t, baseConfig(srv, nil), basicAuth)
	_, err := c2.Fetch(ctx, &pluginsdk.FetchRequest{Entity: "profiles", Cursor: h.Cursor("profiles"), Limit: 1000})
	if err == nil || !pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), "connection lost") {
		t.Fatalf("fetch while the connection drops: %v; want a retryable connection error", err)
	}
	if _, more, err := h.Run(ctx, c2, "profiles", 1000, 0); err != nil || more {
		t.Fatalf("run after reconnecting: more %v, %v", more, err)
	}
	fetchtest.CheckExactlyOnce(t, h.Records(), "/inbound/big.csv", 2, 20_001)
	// The first connection, one after the drop between calls, one for the
	// second connector, one after the drop during its call.
	if got := srv.Accepted(); got != 4 {
		t.Errorf("%d connections, want 4", got)
	}
}

// TestMalformedRowRejectsFile: a CSV with a bad row is rejected whole with
// its line number; nothing of it is imported, later files wait, and the
// fixed file is then imported once.
func TestMalformedRowRejectsFile(t *testing.T) {
	srv := startServer(t)
	writeFile(t, srv, "/inbound/a.csv", "id,email,name\n1,a@x.org,Ann\n2,b@x.org,Bob\n3,c@x.org\n4,d@x.org,Dan\n", time.Now().Add(-2*time.Hour))
	writeFile(t, srv, "/inbound/b.csv", "id,email,name\n5,e@x.org,Eve\n", time.Now().Add(-time.Hour))
	h := fetchtest.Open(t)
	ctx := context.Background()
	c := connect(t, baseConfig(srv, nil), basicAuth)
	want := "sftp host " + srv.Addr + ": import profiles: /inbound/a.csv: file rejected, nothing imported from it: " +
		"line 4: 2 fields, but the header has 3 columns; fix or remove the file"
	for range 2 {
		_, _, err := h.Run(ctx, c, "profiles", 100, 0)
		if err == nil || err.Error() != want {
			t.Fatalf("run: %v\nwant %s", err, want)
		}
		if pluginsdk.IsRetryable(err) {
			t.Error("a malformed file is a permanent error")
		}
		if n := len(h.Records()); n != 0 {
			t.Fatalf("%d events imported from a rejected file", n)
		}
	}
	writeFile(t, srv, "/inbound/a.csv", "id,email,name\n1,a@x.org,Ann\n2,b@x.org,Bob\n3,c@x.org,Cy\n4,d@x.org,Dan\n", time.Now().Add(-30*time.Minute))
	if _, _, err := h.Run(ctx, c, "profiles", 100, 0); err != nil {
		t.Fatal(err)
	}
	recs := h.Records()
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/a.csv", 2, 5)
	fetchtest.CheckExactlyOnce(t, recs, "/inbound/b.csv", 2, 2)
}

// TestMinAge: a file modified within min_age is left for a later run.
func TestMinAge(t *testing.T) {
	srv := startServer(t)
	c := connect(t, baseConfig(srv, func(m map[string]any) { m["min_age"] = "1m" }), basicAuth)
	now := time.Now()
	c.now = func() time.Time { return now }
	writeFile(t, srv, "/inbound/new.csv", "id\n1\n", now.Add(-10*time.Second))
	h := fetchtest.Open(t)
	if _, _, err := h.Run(context.Background(), c, "profiles", 100, 0); err != nil || len(h.Records()) != 0 {
		t.Fatalf("young file: %v, %d events", err, len(h.Records()))
	}
	now = now.Add(time.Minute)
	if _, _, err := h.Run(context.Background(), c, "profiles", 100, 0); err != nil || len(h.Records()) != 1 {
		t.Fatalf("old enough: %v, %d events", err, len(h.Records()))
	}
}

// TestFileChangedBeforeResume: a file rewritten between a batch and the
// restart is recognised as a new file and imported whole.
func TestFileChangedBeforeResume(t *testing.T) {
	srv := startServer(t)
	cfg := baseConfig(srv, nil)
	writeFile(t, srv, "/inbound/a.csv", "id\n1\n2\n3\n", time.Now().Add(-time.Hour))
	h := fetchtest.Open(t)
	ctx := context.Background()
	c1 := connect(t, cfg, basicAuth)
	if _, _, err := h.Run(ctx, c1, "profiles", 2, 1); err != nil {
		t.Fatal(err)
	}
	_ = c1.Close()
	writeFile(t, srv, "/inbound/a.csv", "id\n10\n20\n30\n40\n", time.Now().Add(-time.Minute))
	c2 := connect(t, cfg, basicAuth)
	if _, _, err := h.Run(ctx, c2, "profiles", 2, 0); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range h.Records() {
		ids = append(ids, r.Record["id"].(string))
	}
	if got := strings.Join(ids, ","); got != "1,2,10,20,30,40" {
		t.Errorf("imported ids %s, want 1,2 of the old version then the new version whole", got)
	}
}

func TestFormats(t *testing.T) {
	srv := startServer(t)
	writeFile(t, srv, "/inbound/a.ndjson", "{\"id\":1}\n\n{\"id\":2,\"tags\":[\"x\"]}\n", time.Time{})
	writeFile(t, srv, "/inbound/b.json", "[\n  {\"id\": 3},\n  {\"id\": 4}\n]\n", time.Time{})
	writeFile(t, srv, "/inbound/c.csv", "id;name\n5;\"Smith; J\"\n", time.Time{})
	cfg := baseConfig(srv, func(m map[string]any) {
		m["entities"] = []any{
			map[string]any{"name": "events", "path": "/inbound", "glob": "*.ndjson", "format": "ndjson"},
			map[string]any{"name": "orders", "path": "/inbound", "glob": "*.json", "format": "json"},
			map[string]any{"name": "people", "path": "/inbound", "glob": "*.csv", "delimiter": ";"},
		}
	})
	c := connect(t, cfg, basicAuth)
	h := fetchtest.Open(t)
	for _, e := range []string{"events", "orders", "people"} {
		if _, _, err := h.Run(context.Background(), c, e, 100, 0); err != nil {
			t.Fatalf("%s: %v", e, err)
		}
	}
	var got []string
	for _, r := range h.Records() {
		got = append(got, string(r.Raw))
	}
	want := []string{
		`{"file":"/inbound/a.ndjson","line":1,"entity":"events","record":{"id":1}}`,
		`{"file":"/inbound/a.ndjson","line":3,"entity":"events","record":{"id":2,"tags":["x"]}}`,
		`{"file":"/inbound/b.json","line":2,"entity":"orders","record":{"id":3}}`,
		`{"file":"/inbound/b.json","line":3,"entity":"orders","record":{"id":4}}`,
		`{"file":"/inbound/c.csv","line":2,"entity":"people","record":{"id":"5","name":"Smith; J"}}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, err := c.Fetch(context.Background(), &pluginsdk.FetchRequest{Entity: "nope"}); err == nil ||
		!strings.Contains(err.Error(), `no entity "nope" (configured: [events orders people])`) {
		t.Errorf("unknown entity: %v", err)
	}
}

func TestMetadata(t *testing.T) {
	srv := startServer(t)
	writeFile(t, srv, "/inbound/a.csv", "id,email,active,score\n1,a@x.org,true,1.5\n2,b@x.org,false,\n", time.Time{})
	c := connect(t, baseConfig(srv, nil), basicAuth)
	md, err := c.Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range md.Entities[0].Fields {
		got = append(got, f.Name+":"+f.Type)
	}
	if md.Entities[0].Name != "profiles" || strings.Join(got, " ") != "id:number email:string active:boolean score:number" {
		t.Errorf("metadata %+v", md.Entities)
	}
}
