package s3

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/junctionhub/junction/builtin/internal/records/fetchtest"
	"github.com/junctionhub/junction/builtin/s3/s3test"
	"github.com/junctionhub/junction/pluginsdk"
)

func genCSV(t testing.TB, rows int64) string {
	t.Helper()
	var sb strings.Builder
	if _, err := io.Copy(&sb, fetchtest.GenCSV{Rows: rows}.Reader()); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestImportExactlyOnceAcrossRestart imports a 100k-row CSV object in
// batches of 1000 committed to a real store; midway a fetched batch is
// never committed, and the store and connector are re-created from the
// committed cursor. Every line must be in the log exactly once, and the
// restart must resume with a ranged GET, not read the object again.
func TestImportExactlyOnceAcrossRestart(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	const rows = 100_000
	srv.Put(t, testBucket, "inbound/2024-05-01.csv", genCSV(t, rows))
	srv.Put(t, testBucket, "inbound/2024-05-02.csv", "id,email\n1,a@example.com\n2,b@example.com\n")
	cfg := baseConfig(srv, nil)
	h := fetchtest.Open(t)
	ctx := context.Background()

	c1 := connect(t, cfg)
	if n, more, err := h.Run(ctx, c1, "profiles", 1000, 40); err != nil || !more || n != 40 {
		t.Fatalf("first run: %d batches, more %v, %v", n, more, err)
	}
	if res, err := c1.Fetch(ctx, &pluginsdk.FetchRequest{Entity: "profiles", Cursor: h.Cursor("profiles"), Limit: 1000}); err != nil || len(res.Events) != 1000 {
		t.Fatalf("uncommitted fetch: %v", err)
	}
	_ = c1.Close()
	h.Reopen()
	if got := srv.Requests("GET range"); got != 0 {
		t.Fatalf("%d ranged GETs before the restart, want 0 (one GET kept open)", got)
	}

	c2 := connect(t, cfg)
	if _, more, err := h.Run(ctx, c2, "profiles", 1000, 0); err != nil || more {
		t.Fatalf("second run: more %v, %v", more, err)
	}
	recs := h.Records()
	if len(recs) != rows+2 {
		t.Errorf("%d events, want %d", len(recs), rows+2)
	}
	fetchtest.CheckExactlyOnce(t, recs, "inbound/2024-05-01.csv", 2, rows+1)
	fetchtest.CheckExactlyOnce(t, recs, "inbound/2024-05-02.csv", 2, 3)
	if got := srv.Requests("GET range"); got != 1 {
		t.Errorf("%d ranged GETs, want 1 (the resume after the restart)", got)
	}
	if got := string(h.Cursor("profiles")); !strings.Contains(got, `"after":"inbound/2024-05-02.csv"`) {
		t.Errorf("cursor %s", got)
	}
}

// TestObjectNotReReadAfterRestart: without archive_prefix objects stay;
// a restarted connector lists after the last key imported.
func TestObjectNotReReadAfterRestart(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	srv.Put(t, testBucket, "inbound/a.csv", "id\n1\n2\n")
	srv.Put(t, testBucket, "inbound/notes.txt", "x")
	srv.Put(t, testBucket, "inbound/deeper/b.csv", "id\n9\n")
	srv.Put(t, testBucket, "outbound/c.csv", "id\n9\n")
	cfg := baseConfig(srv, nil)
	h := fetchtest.Open(t)
	run := func() {
		t.Helper()
		c := connect(t, cfg)
		if _, _, err := h.Run(context.Background(), c, "profiles", 100, 0); err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
		h.Reopen()
	}
	run()
	run()
	if recs := h.Records(); len(recs) != 2 {
		t.Fatalf("%d events after two runs, want 2", len(recs))
	}
	srv.Put(t, testBucket, "inbound/b.csv", "id\n3\n")
	run()
	recs := h.Records()
	if len(recs) != 3 || recs[2].File != "inbound/b.csv" {
		t.Fatalf("after adding b.csv: %d events", len(recs))
	}
}

// TestListPagination: the first page of the listing has nothing to import.
func TestListPagination(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	for i := range 1100 {
		srv.Put(t, testBucket, fmt.Sprintf("inbound/a-%04d.txt", i), "x")
	}
	srv.Put(t, testBucket, "inbound/z.csv", "id\n1\n")
	h := fetchtest.Open(t)
	if _, _, err := h.Run(context.Background(), connect(t, baseConfig(srv, nil)), "profiles", 100, 0); err != nil {
		t.Fatal(err)
	}
	if recs := h.Records(); len(recs) != 1 || recs[0].File != "inbound/z.csv" {
		t.Fatalf("imported %v", recs)
	}
	if got := srv.Requests("GET list"); got < 2 {
		t.Errorf("%d list requests, want a second page", got)
	}
}

// TestNoDuplicatesWhenArchiveFails: the copy to the archive fails once; the
// object is still under the prefix after the restart, yet it must not be
// imported again.
func TestNoDuplicatesWhenArchiveFails(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	cfg := baseConfig(srv, entityEdit(func(e map[string]any) { e["archive_prefix"] = "archive/" }))
	srv.Put(t, testBucket, "inbound/a.csv", "id\n1\n2\n3\n")
	srv.Put(t, testBucket, "inbound/b.csv", "id\n4\n")
	// The SDK tries a request 3 times: fail all three.
	var copies atomic.Int32
	srv.SetHook(func(r *http.Request) (int, string) {
		if r.Header.Get("X-Amz-Copy-Source") != "" && copies.Add(1) <= 3 {
			return http.StatusServiceUnavailable, "ServiceUnavailable"
		}
		return 0, ""
	})
	h := fetchtest.Open(t)
	ctx := context.Background()
	c1 := connect(t, cfg)
	_, _, err := h.Run(ctx, c1, "profiles", 100, 0)
	if !pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), "archive inbound/a.csv") {
		t.Fatalf("run: %v, want a retryable archive error", err)
	}
	_ = c1.Close()
	h.Reopen()
	if _, _, err := h.Run(ctx, connect(t, cfg), "profiles", 100, 0); err != nil {
		t.Fatal(err)
	}
	recs := h.Records()
	fetchtest.CheckExactlyOnce(t, recs, "inbound/a.csv", 2, 4)
	fetchtest.CheckExactlyOnce(t, recs, "inbound/b.csv", 2, 2)
	if keys := strings.Join(srv.Keys(t, testBucket, ""), " "); keys != "archive/a.csv archive/b.csv" {
		t.Errorf("bucket holds %s, want archive/a.csv archive/b.csv", keys)
	}
}

// TestNoDuplicatesWhenCrashAfterArchive: the process dies after archiving
// an object and before committing the next batch.
func TestNoDuplicatesWhenCrashAfterArchive(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	cfg := baseConfig(srv, entityEdit(func(e map[string]any) { e["archive_prefix"] = "archive/" }))
	srv.Put(t, testBucket, "inbound/a.csv", "id\n1\n2\n")
	srv.Put(t, testBucket, "inbound/b.csv", "id\n3\n")
	h := fetchtest.Open(t)
	ctx := context.Background()
	c1 := connect(t, cfg)
	if _, _, err := h.Run(ctx, c1, "profiles", 100, 1); err != nil {
		t.Fatal(err)
	}
	if res, err := c1.Fetch(ctx, &pluginsdk.FetchRequest{Entity: "profiles", Cursor: h.Cursor("profiles")}); err != nil || len(res.Events) != 1 {
		t.Fatalf("fetch: %v", err)
	}
	if _, ok := srv.Get(t, testBucket, "archive/a.csv"); !ok {
		t.Fatal("a.csv not archived")
	}
	_ = c1.Close()
	h.Reopen()
	if _, _, err := h.Run(ctx, connect(t, cfg), "profiles", 100, 0); err != nil {
		t.Fatal(err)
	}
	recs := h.Records()
	fetchtest.CheckExactlyOnce(t, recs, "inbound/a.csv", 2, 3)
	fetchtest.CheckExactlyOnce(t, recs, "inbound/b.csv", 2, 2)
}

// TestRetryAfterFailure: a failing GET fails the call (retryable); the next
// call succeeds and nothing is duplicated.
func TestRetryAfterFailure(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	srv.Put(t, testBucket, "inbound/a.csv", genCSV(t, 3000))
	// GET 1 checks the object; GET 2 (and the SDK's 2 retries) to import
	// it fail.
	var n atomic.Int32
	srv.SetHook(func(r *http.Request) (int, string) {
		if r.Method == http.MethodGet && !r.URL.Query().Has("list-type") {
			if i := n.Add(1); i >= 2 && i <= 4 {
				return http.StatusInternalServerError, "InternalError"
			}
		}
		return 0, ""
	})
	h := fetchtest.Open(t)
	c := connect(t, baseConfig(srv, nil))
	_, _, err := h.Run(context.Background(), c, "profiles", 1000, 0)
	if err == nil || !pluginsdk.IsRetryable(err) {
		t.Fatalf("run: %v, want a retryable error", err)
	}
	if _, _, err := h.Run(context.Background(), c, "profiles", 1000, 0); err != nil {
		t.Fatal(err)
	}
	fetchtest.CheckExactlyOnce(t, h.Records(), "inbound/a.csv", 2, 3001)
}

func TestImportErrors(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	srv.Put(t, testBucket, "inbound/bad.csv", "id,email\n1,a@x.org\n2,\"b@x.org\n")
	tests := []struct {
		name      string
		edit      func(m map[string]any)
		hook      func(r *http.Request) (int, string)
		want      string
		retryable bool
	}{
		{name: "malformed row", want: `s3 bucket "inbox" at ` + srv.URL + `: import profiles: inbound/bad.csv: file rejected, nothing imported from it: ` +
			`line 3, column 12: extraneous or missing " in quoted-field; fix or remove the file`},
		{name: "missing bucket", edit: func(m map[string]any) { m["bucket"] = "nope" },
			want: `s3 bucket "nope" does not exist at ` + srv.URL},
		{name: "private address", edit: func(m map[string]any) { delete(m, "allow_private") },
			want: "address 127.0.0.1 is loopback; set config.allow_private: true to reach it"},
		{name: "access denied", hook: func(*http.Request) (int, string) { return http.StatusForbidden, "InvalidAccessKeyId" },
			want: "the access key id is not known (auth.username) (InvalidAccessKeyId)"},
		{name: "server error", hook: func(*http.Request) (int, string) { return http.StatusServiceUnavailable, "SlowDown" },
			want: "SlowDown", retryable: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.SetHook(tt.hook)
			defer srv.SetHook(nil)
			h := fetchtest.Open(t)
			_, _, err := h.Run(context.Background(), connect(t, baseConfig(srv, tt.edit)), "profiles", 100, 0)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n%v\nwant\n%s", err, tt.want)
			}
			if pluginsdk.IsRetryable(err) != tt.retryable {
				t.Errorf("retryable = %v, want %v", !tt.retryable, tt.retryable)
			}
			if n := len(h.Records()); n != 0 {
				t.Errorf("%d events imported", n)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	srv := s3test.Start(t, testBucket)
	srv.Put(t, testBucket, "inbound/a.ndjson", "{\"id\":1,\"email\":\"a@x.org\",\"vip\":true}\n")
	c := connect(t, baseConfig(srv, entityEdit(func(e map[string]any) { e["glob"] = "*.ndjson"; e["format"] = "ndjson" })))
	md, err := c.Metadata(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range md.Entities[0].Fields {
		got = append(got, f.Name+":"+f.Type)
	}
	if strings.Join(got, " ") != "id:number email:string vip:boolean" {
		t.Errorf("fields %v", got)
	}
}
