package fileimport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/junctionhub/junction/builtin/internal/records"
	"github.com/junctionhub/junction/pluginsdk"
)

// memSource is a folder of files in memory; it records what happened.
type memSource struct {
	files    map[string]string // name → content, imported in name order
	archived []string
	opens    int
	failRead error // the next Read of an open handle fails with it
	log      []string
}

func (m *memSource) Where() string { return "mem" }

func (m *memSource) Next(_ context.Context, c *Cursor) (*FileID, error) {
	var best *FileID
	for name, content := range m.files {
		id := FileID{Name: name, Size: int64(len(content)), Version: "v1"}
		if c.IsDone(id) || c.IsPendingArchive(name) || best != nil && best.Name < name {
			continue
		}
		best = &id
	}
	return best, nil
}

func (m *memSource) Open(_ context.Context, id FileID, offset int64) (Handle, error) {
	content, ok := m.files[id.Name]
	if !ok {
		return nil, fmt.Errorf("%s: %w", id.Name, ErrGone)
	}
	m.opens++
	m.log = append(m.log, fmt.Sprintf("open %s@%d", id.Name, offset))
	return &memHandle{m: m, r: strings.NewReader(content[offset:])}, nil
}

func (m *memSource) Imported(c *Cursor, id FileID) { c.Done = append(c.Done, id) }

func (m *memSource) Archive(_ context.Context, id FileID) error {
	m.log = append(m.log, "archive "+id.Name)
	if _, ok := m.files[id.Name]; ok {
		delete(m.files, id.Name)
		m.archived = append(m.archived, id.Name)
	}
	return nil
}

type memHandle struct {
	m *memSource
	r io.Reader
}

func (h *memHandle) Read(p []byte) (int, error) {
	if err := h.m.failRead; err != nil {
		h.m.failRead = nil
		return 0, err
	}
	return h.r.Read(p)
}
func (h *memHandle) Close() error { return nil }
func (h *memHandle) Abort()       {}

func fetch(t *testing.T, im *Importer, src Source, e Entity, cursor []byte, limit int) *pluginsdk.FetchResult {
	t.Helper()
	res, err := im.Fetch(context.Background(), src, e, cursor, limit)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return res
}

// TestArchiveOnlyAfterCommit: a finished file is moved at the start of the
// next Fetch, never in the Fetch that returns its last records.
func TestArchiveOnlyAfterCommit(t *testing.T) {
	src := &memSource{files: map[string]string{"a.csv": "id\n1\n2\n3\n", "b.csv": "id\n4\n"}}
	im := New(nil)
	defer im.Close()
	e := Entity{Name: "p", Read: records.Options{Format: records.CSV}, Archive: true}
	r1 := fetch(t, im, src, e, nil, 2)
	r2 := fetch(t, im, src, e, r1.Cursor, 2)
	if len(r2.Events) != 1 || len(src.archived) != 0 || !strings.Contains(string(r2.Cursor), `"archive":[["a.csv"`) {
		t.Fatalf("after a.csv's last batch: %d events, archived %v, cursor %s", len(r2.Events), src.archived, r2.Cursor)
	}
	// The same cursor twice (a commit that failed, then a retry): the move
	// is repeated harmlessly and the batch is the same.
	r3 := fetch(t, im, src, e, r2.Cursor, 2)
	r3b := fetch(t, im, src, e, r2.Cursor, 2)
	if len(r3.Events) != 1 || len(r3b.Events) != 1 || string(r3.Events[0].Payload) != string(r3b.Events[0].Payload) {
		t.Fatalf("b.csv: %d then %d events", len(r3.Events), len(r3b.Events))
	}
	r4 := fetch(t, im, src, e, r3.Cursor, 2)
	if len(r4.Events) != 0 || r4.More || strings.Join(src.archived, ",") != "a.csv,b.csv" {
		t.Fatalf("end: %d events, more %v, archived %v", len(r4.Events), r4.More, src.archived)
	}
	// a.csv: checked, read; b.csv: checked, read, then checked and read
	// again for the repeated cursor.
	if src.opens != 6 {
		t.Errorf("%d opens (%v)", src.opens, src.log)
	}
}

// TestKeptHandleReopened: the file kept open between calls fails; the
// batch is read again from the cursor, without an error.
func TestKeptHandleReopened(t *testing.T) {
	content := "id\n" + strings.Repeat("1\n", 700_000) // more than the read-ahead
	src := &memSource{files: map[string]string{"a.csv": content}}
	im := New(nil)
	defer im.Close()
	e := Entity{Name: "p", Read: records.Options{Format: records.CSV}}
	var cursor []byte
	var total int
	for i := 0; ; i++ {
		if i == 3 {
			src.failRead = errors.New("connection reset")
		}
		res := fetch(t, im, src, e, cursor, 100_000)
		total += len(res.Events)
		cursor = res.Cursor
		if !res.More {
			break
		}
	}
	if total != 700_000 {
		t.Errorf("%d records, want 700000", total)
	}
	if !strings.Contains(strings.Join(src.log, " "), "open a.csv@") || src.opens != 3 {
		t.Errorf("opens %v, want check, read, and one reopen", src.log)
	}
}

// TestGoneFileSkipped: the file in progress disappeared; the cursor moves
// on without an error.
func TestGoneFileSkipped(t *testing.T) {
	src := &memSource{files: map[string]string{"a.csv": "id\n1\n2\n", "b.csv": "id\n3\n"}}
	im := New(nil)
	e := Entity{Name: "p", Read: records.Options{Format: records.CSV}}
	r1 := fetch(t, im, src, e, nil, 1)
	im.Close() // forget the open file, as a restart would
	delete(src.files, "a.csv")
	r2 := fetch(t, im, src, e, r1.Cursor, 1)
	if len(r2.Events) != 0 || !r2.More || strings.Contains(string(r2.Cursor), "cur") {
		t.Fatalf("after a.csv vanished: %d events, cursor %s", len(r2.Events), r2.Cursor)
	}
	r3 := fetch(t, im, src, e, r2.Cursor, 1)
	if len(r3.Events) != 1 || !strings.Contains(string(r3.Events[0].Payload), `"b.csv"`) {
		t.Fatalf("next: %v", r3.Events)
	}
}

func TestFetchErrors(t *testing.T) {
	src := &memSource{files: map[string]string{"a.csv": "id,x\n1\n"}}
	im := New(nil)
	e := Entity{Name: "p", Read: records.Options{Format: records.CSV}}
	_, err := im.Fetch(context.Background(), src, e, nil, 0)
	if err == nil || err.Error() != "mem: import p: a.csv: file rejected, nothing imported from it: line 2: 1 fields, but the header has 2 columns; fix or remove the file" ||
		pluginsdk.IsRetryable(err) {
		t.Errorf("malformed: %v", err)
	}
	if _, err := im.Fetch(context.Background(), src, e, []byte(`{"v":9}`), 0); err == nil || !strings.Contains(err.Error(), "cursor version 9") {
		t.Errorf("cursor version: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := im.Fetch(ctx, src, e, nil, 0); err == nil || !pluginsdk.IsRetryable(err) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestCursorJSON(t *testing.T) {
	c := Cursor{V: 1, Cur: &Progress{File: FileID{"a.csv", 10, "e\"1"}, Position: records.Position{Offset: 4, Line: 2, Columns: []string{"id"}}},
		Done: []FileID{{"b.csv", 3, "123"}}}
	b := c.encode()
	want := `{"v":1,"cur":{"file":["a.csv",10,"e\"1"],"offset":4,"line":2,"columns":["id"]},"done":[["b.csv",3,"123"]]}`
	if string(b) != want {
		t.Errorf("encoded %s\nwant    %s", b, want)
	}
	back, err := DecodeCursor(b)
	if err != nil || back.Cur.File != c.Cur.File || back.Cur.Offset != 4 || !back.IsDone(c.Done[0]) {
		t.Errorf("decoded %+v, %v", back, err)
	}
	var id FileID
	if err := json.Unmarshal([]byte(`["a",1]`), &id); err == nil {
		t.Error("a short file id decoded")
	}
}
