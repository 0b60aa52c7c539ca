package records

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// checkResume reads src whole, then resumes after each record (for the
// first few) and checks the tail comes out the same.
func checkResume(t *testing.T, src string, o Options) {
	all, _, err := readAll(t, src, o, Position{})
	rd, _ := NewReader(strings.NewReader(src), o, Position{})
	for i := range min(len(all), 8) {
		if _, err := rd.Next(); err != nil {
			t.Fatalf("second read, record %d: %v", i, err)
		}
		at := rd.Position()
		if at.Offset > int64(len(src)) {
			t.Fatalf("position %+v past the end (%d bytes)", at, len(src))
		}
		rest, _, rerr := readAll(t, src, o, at)
		if (rerr == nil) != (err == nil) || !reflect.DeepEqual(rest, all[i+1:]) && len(rest)+len(all[i+1:]) > 0 {
			t.Fatalf("resume after record %d at %+v: got %v, %v; want %v, %v", i, at, rest, rerr, all[i+1:], err)
		}
	}
}

// FuzzCSV compares the reader with encoding/csv, and checks resuming.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a,b\r\n\"x\ny\",2\r\n", "a\n\"\"\"\"\n", "a,b\n1\n", "a,b\n1,\"2\n",
		"a,b\n\n\n3,4", "a;b\n1;2\n", "a,a\n1,2\n", "\"a\nb\",c\n1,2\n", "a,b\n1,x\"y\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if strings.HasPrefix(src, "\xEF\xBB\xBF") {
			return // the reader drops a BOM, encoding/csv does not
		}
		o := Options{Format: CSV, MaxRecordBytes: 1 << 20}
		got, _, err := readAll(t, src, o, Position{})

		cr := csv.NewReader(strings.NewReader(src))
		header, herr := cr.Read()
		var want [][]string
		werr := herr
		for werr == nil {
			r, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			werr = err
			want = append(want, r)
		}
		if errors.Is(herr, io.EOF) {
			if err != nil || len(got) > 0 {
				t.Fatalf("empty input: got %v, %v", got, err)
			}
			return
		}
		goodHeader := herr == nil
		seen := map[string]bool{}
		for i, h := range header {
			h = viaJSON(strings.ToValidUTF8(strings.TrimSpace(h), "\uFFFD"))
			header[i] = h
			goodHeader = goodHeader && h != "" && !seen[h]
			seen[h] = true
		}
		if !goodHeader || werr != nil {
			if err == nil {
				t.Fatalf("encoding/csv: header %v, %v; rows: %v; the reader accepted it: %v", header, herr, werr, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("encoding/csv read it, the reader failed: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, encoding/csv read %d", len(got), len(want))
		}
		for i, g := range got {
			var m map[string]string
			if err := json.Unmarshal([]byte(g.JSON), &m); err != nil {
				t.Fatalf("record %d: invalid JSON %s: %v", i, g.JSON, err)
			}
			for j, h := range header {
				if w := viaJSON(want[i][j]); m[h] != w {
					t.Fatalf("record %d column %q = %q, encoding/csv read %q", i, h, m[h], w)
				}
			}
		}
		checkResume(t, src, o)
	})
}

// FuzzJSON compares the array reader with encoding/json, and checks
// resuming.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`[]`, `[{"a":1}]`, "[\n{\"a\":\"]\"},\n{\"b\":{\"c\":[]}}\n]", `[{"a":1},]`, `[1]`, `{"a":1}`, `[{"a":"\"}"}]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		o := Options{Format: JSON, MaxRecordBytes: 1 << 20}
		got, _, err := readAll(t, src, o, Position{})
		var arr []json.RawMessage
		jerr := json.Unmarshal([]byte(src), &arr)
		for _, r := range arr {
			if jerr == nil && !bytes.HasPrefix(bytes.TrimSpace(r), []byte("{")) {
				jerr = errors.New("not an object")
			}
		}
		if strings.HasPrefix(src, "\xEF\xBB\xBF") && jerr != nil {
			return // the reader drops a BOM, encoding/json does not
		}
		if (err == nil) != (jerr == nil) {
			t.Fatalf("reader: %v; encoding/json: %v", err, jerr)
		}
		if err != nil {
			return
		}
		if len(got) != len(arr) {
			t.Fatalf("%d records, encoding/json read %d", len(got), len(arr))
		}
		for i := range got {
			var c bytes.Buffer
			_ = json.Compact(&c, arr[i])
			if got[i].JSON != c.String() {
				t.Fatalf("record %d = %s, encoding/json read %s", i, got[i].JSON, c.String())
			}
		}
		checkResume(t, src, o)
	})
}

// FuzzNDJSON checks that every record is valid JSON and resuming works.
func FuzzNDJSON(f *testing.F) {
	for _, s := range []string{"{\"a\":1}\n\n{\"b\":2}", "{\"a\":1}\r\n[1]\n", "{}\n{", "\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		o := Options{Format: NDJSON, MaxRecordBytes: 1 << 20}
		got, _, err := readAll(t, src, o, Position{})
		for _, g := range got {
			if !json.Valid([]byte(g.JSON)) {
				t.Fatalf("line %d: invalid JSON %q", g.Line, g.JSON)
			}
		}
		if err == nil {
			checkResume(t, src, o)
		}
	})
}

// viaJSON is s after a round trip through encoding/json (each invalid byte
// becomes U+FFFD, as in the reader's payloads).
func viaJSON(s string) string {
	b, _ := json.Marshal(s)
	var out string
	_ = json.Unmarshal(b, &out)
	return out
}
