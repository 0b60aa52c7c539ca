package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/s3/s3test"
	"github.com/junctionhub/junction/builtin/sftp/sftptest"
)

// The file tests: pull connections importing files (sftp, s3) and
// scheduled exports (events.collect → export), run against the built
// binary with real SFTP and S3-compatible servers on loopback.

// fetchJob is a fetch job as GET /connections/{name}/jobs shows it.
type fetchJob struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Records int64  `json:"records"`
	Error   string `json:"error"`
}

// startFilesHub is startHub, plus closing this process's idle keep-alive
// connections to the hub before it is stopped: the hub's graceful shutdown
// otherwise sometimes waits out its 30 s deadline for them (seen after
// parallel API calls), which is not what these tests are about.
func startFilesHub(t *testing.T, configs, data string, env map[string]string) *hubProc {
	t.Helper()
	h := startHub(t, configs, data, env, "")
	t.Cleanup(http.DefaultClient.CloseIdleConnections) // runs before startHub's Stop
	return h
}

func jobsOf(t *testing.T, h *hubProc, conn string) []fetchJob {
	t.Helper()
	var res struct{ Jobs []fetchJob }
	if code := h.api("GET", "/connections/"+conn+"/jobs", nil, &res); code != 200 {
		t.Fatalf("jobs of %s: HTTP %d", conn, code)
	}
	return res.Jobs
}

// sftpEnv is what the testdata/files configs read of the SFTP server.
func sftpEnv(srv *sftptest.Server) map[string]string {
	return map[string]string{"SFTP_HOST": srv.Host(), "SFTP_PORT": strconv.Itoa(srv.Port()), "SFTP_FINGERPRINT": srv.Fingerprint()}
}

// upload writes a file under the server's root, old enough for min_age.
func upload(t *testing.T, srv *sftptest.Server, p, body string) {
	t.Helper()
	local := srv.Local(p)
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, local, body)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(local, old, old); err != nil {
		t.Fatal(err)
	}
}

// slotFile writes the payload the scheduler gives a scheduled run, for
// `junction workflow run --input`.
func slotFile(t *testing.T, workflow string, at time.Time) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "slot.json")
	writeFile(t, p, fmt.Sprintf(`{"scheduledAt":%q,"workflow":%q}`, at.UTC().Format(time.RFC3339), workflow))
	return p
}

// endedSlot is the slot that ends the window of everything received until
// now: the next whole second (RFC 3339 slots have whole seconds), once it
// has passed, since events.collect refuses a window that has not ended.
func endedSlot() time.Time {
	at := time.Now().UTC().Truncate(time.Second).Add(time.Second)
	time.Sleep(time.Until(at) + time.Millisecond)
	return at
}

const bigRows = 100_000

func bigRow(i int) string { return fmt.Sprintf("u%06d@example.com,Name %d,%d\n", i, i, i) }

// gatedFile serves a file from memory and holds the import pass half-way:
// the connector reads a file twice (a check pass to the end, then the
// import), so the second pass's reads past the middle wait at the gate.
// The import is then blocked with about half the rows committed, and the
// test kills the hub there, exactly, whatever the machine's speed.
type gatedFile struct {
	data     []byte
	passes   atomic.Int32 // reads at offset 0: one per pass
	gate     chan struct{}
	held     chan struct{}
	holdOnce sync.Once
	openOnce sync.Once
}

func newGatedFile(data []byte) *gatedFile {
	return &gatedFile{data: data, gate: make(chan struct{}), held: make(chan struct{})}
}

func (g *gatedFile) ReadAt(p []byte, off int64) (int, error) {
	if off == 0 {
		g.passes.Add(1)
	}
	if g.passes.Load() >= 2 && off+int64(len(p)) > int64(len(g.data)/2) {
		g.holdOnce.Do(func() { close(g.held) })
		<-g.gate
	}
	if off >= int64(len(g.data)) {
		return 0, io.EOF
	}
	n := copy(p, g.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (g *gatedFile) open() { g.openOnce.Do(func() { close(g.gate) }) }

// TestSFTPImportSurvivesKill imports a 100,000-row CSV from a real SFTP
// server, kills the hub with SIGKILL in the middle of the import, restarts
// it on the same data dir, fetches again, and proves every line was stored
// exactly once.
//
// The proof reads the events back: a workflow run of events.collect over
// the connection's events of the last hour, with each record's file and
// line, checked line by line against the generated file (100,000 records,
// lines 2 to 100,001 each once, each with its own row's values). That is
// exact and cheap: one run, one read of the log. The data overview cannot
// prove it: its counts are flushed every 10 s and a SIGKILL loses what was
// not flushed, by design (core/stats).
func TestSFTPImportSurvivesKill(t *testing.T) {
	srv := sftptest.Start(t)
	srv.AddUser("junction", "pw")
	var csv bytes.Buffer
	csv.WriteString("email,name,n\n")
	for i := range bigRows {
		csv.WriteString(bigRow(i))
	}
	file := newGatedFile(csv.Bytes())
	// Registered after the server's cleanup, so it runs before it: the
	// server waits for its handlers, and one may be held at the gate.
	t.Cleanup(file.open)
	// The directory is listed from disk, the virtual file added to it.
	if err := os.MkdirAll(srv.Local("/big"), 0o755); err != nil {
		t.Fatal(err)
	}
	srv.AddVirtual("/big/profiles.csv", &sftptest.Virtual{Size: int64(csv.Len()), ModTime: time.Now().Add(-time.Hour), ReaderAt: file})

	configs, data := copyConfigs(t, "testdata/files/crash"), t.TempDir()
	h := startFilesHub(t, configs, data, sftpEnv(srv))
	out, code := junctionCLI(t, h, "connection", "fetch", "partner", "--detach")
	if code != 0 {
		t.Fatalf("fetch --detach (exit %d):\n%s", code, out)
	}
	jobID := strings.TrimSpace(out)
	waitFor(t, 30*time.Second, "the import to reach the middle of the file", func() bool {
		select {
		case <-file.held:
			return true
		default:
		}
		if jobs := jobsOf(t, h, "partner"); len(jobs) > 0 && jobs[0].Status != "running" {
			t.Fatalf("the job ended before the middle of the file: %+v", jobs[0])
		}
		return false
	})
	var mid int64
	waitFor(t, 10*time.Second, "the job to count committed records", func() bool {
		jobs := jobsOf(t, h, "partner")
		mid = jobs[0].Records
		return jobs[0].ID == jobID && jobs[0].Status == "running" && mid > 0
	})
	if mid >= bigRows {
		t.Fatalf("job at %d records when held half-way", mid)
	}
	h.Kill()
	file.open()
	t.Logf("killed the hub with %d of %d records committed", mid, bigRows)

	h = startFilesHub(t, configs, data, sftpEnv(srv))
	out, code = junctionCLI(t, h, "connection", "fetch", "partner")
	if code != 0 || !strings.Contains(out, "completed") {
		t.Fatalf("fetch after the restart (exit %d):\n%s", code, out)
	}
	jobs := jobsOf(t, h, "partner")
	if len(jobs) != 2 || jobs[1].ID != jobID || jobs[1].Status != "failed" || !strings.Contains(jobs[1].Error, "interrupted") ||
		jobs[0].Status != "completed" || jobs[0].Records != bigRows-mid {
		// The import was held inside a read, after the commit of the batch
		// before: the killed job's live count is exactly what was committed.
		t.Fatalf("jobs after the restart: %+v; want the killed one failed (interrupted) and a completed one of the other %d records", jobs, bigRows-mid)
	}

	var res struct {
		Run struct {
			Status string
			Error  string
			Tasks  []struct {
				Output struct {
					Count   int
					Records []struct {
						File  string `json:"_file"`
						Line  int    `json:"_line"`
						Email string `json:"email"`
						Name  string `json:"name"`
						N     string `json:"n"`
					}
				}
			}
		}
	}
	body := fmt.Sprintf(`{"scheduledAt":%q,"workflow":"partner-window"}`, endedSlot().Format(time.RFC3339))
	if code := h.api("POST", "/workflows/partner-window/run", []byte(body), &res); code != 200 || res.Run.Status != "completed" {
		t.Fatalf("collect run: HTTP %d, %s %s", code, res.Run.Status, res.Run.Error)
	}
	got := res.Run.Tasks[0].Output
	if got.Count != bigRows || len(got.Records) != bigRows {
		t.Fatalf("the log holds %d events of partner (%d records), want exactly %d", got.Count, len(got.Records), bigRows)
	}
	seen := make([]bool, bigRows)
	for _, r := range got.Records {
		i := r.Line - 2 // the first data row is line 2
		if i < 0 || i >= bigRows || r.File != "/big/profiles.csv" {
			t.Fatalf("record from %s line %d: not a data line of the file", r.File, r.Line)
		}
		if seen[i] {
			t.Fatalf("line %d was stored twice", r.Line)
		}
		seen[i] = true
		if want := bigRow(i); r.Email+","+r.Name+","+r.N+"\n" != want {
			t.Fatalf("line %d holds %s,%s,%s; want %s", r.Line, r.Email, r.Name, r.N, want)
		}
	}
}

// TestScheduledExportsWriteFiles runs the ready configs configs/sftp-profiles.yaml
// and configs/s3-export.yaml against sftptest and s3test: the nightly
// profile import fills the directory, the hourly S3 export writes the
// hour's orders, and an export back to SFTP writes one whole file. Exports
// are triggered as an operator exports a slot by hand, with `junction
// workflow run NAME --input` a scheduled payload.
func TestScheduledExportsWriteFiles(t *testing.T) {
	srv := sftptest.Start(t)
	srv.AddUser("junction", "pw")
	profiles, err := os.ReadFile("testdata/files/profiles.csv")
	if err != nil {
		t.Fatal(err)
	}
	upload(t, srv, "/inbound/profiles/2024-05-01.csv", string(profiles))
	if err := os.MkdirAll(srv.Local("/outbound"), 0o755); err != nil {
		t.Fatal(err)
	}
	lake := s3test.Start(t, "exports")

	configs := copyConfigs(t, "testdata/files/export")
	for _, f := range []string{"sftp-profiles.yaml", "s3-export.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "configs", f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(configs, f), string(b))
	}
	env := map[string]string{
		"SFTP_PROFILES_HOST": srv.Host(), "SFTP_PROFILES_PORT": strconv.Itoa(srv.Port()), "SFTP_PROFILES_USER": "junction",
		"SFTP_PROFILES_PASSWORD": "pw", "SFTP_PROFILES_HOST_KEY_FINGERPRINT": srv.Fingerprint(),
		"S3_EXPORT_ENDPOINT": lake.URL, "S3_EXPORT_BUCKET": "exports", "S3_EXPORT_PATH_STYLE": "true", "S3_EXPORT_ALLOW_PRIVATE": "true",
		"ORDERS_API_KEY": "k-orders",
	}
	h := startFilesHub(t, configs, t.TempDir(), env)

	// The nightly import, now.
	out, code := junctionCLI(t, h, "connection", "fetch", "sftp-profiles")
	if code != 0 || !strings.Contains(out, "completed: 3 records") {
		t.Fatalf("fetch sftp-profiles (exit %d):\n%s", code, out)
	}
	if _, err := os.Stat(srv.Local("/inbound/profiles/archive/2024-05-01.csv")); err != nil {
		t.Errorf("the imported file was not archived: %v", err)
	}
	orders := []string{`{"id":"A-1","email":"ann@example.com","total":12.5}`, `{"id":"A-2","email":"bob@example.com","total":7}`}
	for _, o := range orders {
		if code, body := postEvent(t, h.URL, "k-orders", []byte(o)); code != 202 && code != 200 {
			t.Fatalf("post order: HTTP %d %s", code, body)
		}
	}
	var found struct {
		Contacts []struct {
			FirstName, LastName, Phone string
			Embedded                   map[string]any
		}
	}
	waitFor(t, 10*time.Second, "the profile workflow to save Cid", func() bool {
		return h.api("GET", "/directories/POOL_demo/contacts?email=cid@example.com", nil, &found) == 200 && len(found.Contacts) == 1
	})
	if c := found.Contacts[0]; c.FirstName != "Cid" || c.LastName != "O'Hara, Jr." || c.Embedded["country"] != "US" || c.Embedded["plan"] != "silver" ||
		c.Embedded["profileFile"] != "/inbound/profiles/2024-05-01.csv" {
		t.Errorf("contact from the CSV: %+v", c)
	}

	// The hourly S3 export of the slot that ends now.
	at := endedSlot()
	key := "exports/orders-in/" + at.Add(-time.Hour).Format("2006-01-02/15") + ".ndjson"
	slot := slotFile(t, "s3-export-hourly", at)
	out, code = junctionCLI(t, h, "workflow", "run", "s3-export-hourly", "--input", slot)
	if code != 0 || !strings.Contains(out, `"status": "completed"`) {
		t.Fatalf("workflow run s3-export-hourly (exit %d):\n%s", code, out)
	}
	obj, ok := lake.Get(t, "exports", key)
	if !ok {
		t.Fatalf("no object %s; bucket holds %v", key, lake.Keys(t, "exports", ""))
	}
	if lines := strings.Split(strings.TrimSuffix(obj, "\n"), "\n"); !sameJSON(lines, orders) {
		t.Errorf("object %s:\n%s\nwant the two orders received", key, obj)
	}
	// The same slot again (a retry, a resumed run): the same object.
	if out, code = junctionCLI(t, h, "workflow", "run", "s3-export-hourly", "--input", slot); code != 0 {
		t.Fatalf("second run of the slot (exit %d):\n%s", code, out)
	}
	if again, _ := lake.Get(t, "exports", key); again != obj {
		t.Errorf("re-running the slot wrote\n%s\nwant\n%s", again, obj)
	}
	// An hour without orders writes nothing.
	if out, code = junctionCLI(t, h, "workflow", "run", "s3-export-hourly", "--input", slotFile(t, "s3-export-hourly", at.Add(-time.Hour))); code != 0 {
		t.Fatalf("run of an empty hour (exit %d):\n%s", code, out)
	}
	emptyKey := "exports/orders-in/" + at.Add(-2*time.Hour).Format("2006-01-02/15") + ".ndjson"
	if _, ok := lake.Get(t, "exports", emptyKey); ok {
		t.Errorf("an hour without orders wrote %s", emptyKey)
	}

	// The export back to SFTP: one whole file, no temporary left.
	out, code = junctionCLI(t, h, "workflow", "run", "profiles-to-partner", "--input", slotFile(t, "profiles-to-partner", at))
	if code != 0 || !strings.Contains(out, `"status": "completed"`) {
		t.Fatalf("workflow run profiles-to-partner (exit %d):\n%s", code, out)
	}
	name := "profiles-" + at.Add(-time.Hour).Format("2006-01-02T15") + ".csv"
	entries, err := os.ReadDir(srv.Local("/outbound"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{name}) {
		t.Errorf("/outbound holds %v, want only %s", names, name)
	}
	b, err := os.ReadFile(srv.Local("/outbound/" + name))
	if err != nil {
		t.Fatal(err)
	}
	want := "_file,_line,email,first_name,country\n" +
		"/inbound/profiles/2024-05-01.csv,2,ann@example.com,Ann,IT\n" +
		"/inbound/profiles/2024-05-01.csv,3,bob@example.com,Bob,DE\n" +
		"/inbound/profiles/2024-05-01.csv,4,cid@example.com,Cid,US\n"
	if string(b) != want {
		t.Errorf("%s:\n%s\nwant\n%s", name, b, want)
	}
}

// sameJSON compares NDJSON lines with the wanted objects, as values.
func sameJSON(lines, want []string) bool {
	if len(lines) != len(want) {
		return false
	}
	for i := range lines {
		var a, b any
		if json.Unmarshal([]byte(lines[i]), &a) != nil || json.Unmarshal([]byte(want[i]), &b) != nil {
			return false
		}
		if fmt.Sprint(a) != fmt.Sprint(b) {
			return false
		}
	}
	return true
}

// TestFetchErrorsArePrecise checks that each way a fetch fails ends the
// job with the reason, in `junction connection fetch` and the jobs API.
func TestFetchErrorsArePrecise(t *testing.T) {
	srv := sftptest.Start(t)
	srv.AddUser("junction", "pw")
	bad, err := os.ReadFile("testdata/files/bad.csv")
	if err != nil {
		t.Fatal(err)
	}
	upload(t, srv, "/bad/2024-05-01.csv", string(bad))
	empty := s3test.Start(t) // no buckets at all
	env := sftpEnv(srv)
	env["S3_URL"] = empty.URL
	h := startFilesHub(t, copyConfigs(t, "testdata/files/errors"), t.TempDir(), env)

	addr := fmt.Sprintf("%s:%d", srv.Host(), srv.Port())
	tests := []struct{ conn, want string }{
		{"wrong-host-key", fmt.Sprintf("sftp host %s: import profiles: list files: host key mismatch: server offered %s, expected SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", addr, srv.Fingerprint())},
		{"wrong-password", fmt.Sprintf(`sftp host %s: import profiles: list files: authentication failed for user "junction": the server refused the password`, addr)},
		{"missing-bucket", fmt.Sprintf(`s3 bucket "no-such-bucket" does not exist at %s`, empty.URL)},
		{"malformed", fmt.Sprintf("sftp host %s: import profiles: /bad/2024-05-01.csv: file rejected, nothing imported from it: line 4: 2 fields, but the header has 3 columns; fix or remove the file", addr)},
	}
	for _, tt := range tests {
		t.Run(tt.conn, func(t *testing.T) {
			t.Parallel()
			out, code := junctionCLI(t, h, "connection", "fetch", tt.conn)
			if code != 1 || !strings.Contains(out, "failed: 0 records") || !strings.Contains(out, tt.want) {
				t.Errorf("fetch %s (exit %d):\n%s\nwant exit 1 and %q", tt.conn, code, out, tt.want)
			}
			jobs := jobsOf(t, h, tt.conn)
			if len(jobs) != 1 || jobs[0].Status != "failed" || !strings.Contains(jobs[0].Error, tt.want) {
				t.Errorf("jobs of %s: %+v\nwant one failed job with %q", tt.conn, jobs, tt.want)
			}
		})
	}
}
