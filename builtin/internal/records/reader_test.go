package records

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// rec is a record as the tests compare it: its line and its JSON.
type rec struct {
	Line int64
	JSON string
}

// readAll reads every record of src from at.
func readAll(t testing.TB, src string, o Options, at Position) ([]rec, Position, error) {
	t.Helper()
	rd, err := NewReader(strings.NewReader(src[at.Offset:]), o, at)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var out []rec
	for {
		r, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, rd.Position(), nil
		}
		if err != nil {
			return out, rd.Position(), err
		}
		out = append(out, rec{r.Line, string(r.AppendJSON(nil))})
	}
}

func TestReadFormats(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		src  string
		want []rec
	}{
		{"csv", Options{Format: CSV}, "email,name\na@x.org,Ann\nb@x.org,Bob\n",
			[]rec{{2, `{"email":"a@x.org","name":"Ann"}`}, {3, `{"email":"b@x.org","name":"Bob"}`}}},
		{"csv BOM CRLF no final newline", Options{Format: CSV}, "\xEF\xBB\xBFa,b\r\n1,2\r\n3,4",
			[]rec{{2, `{"a":"1","b":"2"}`}, {3, `{"a":"3","b":"4"}`}}},
		{"csv quoted field over lines", Options{Format: CSV}, "a,b\n\"x\r\ny\",1\n\"q\"\"q\",2\n",
			[]rec{{2, `{"a":"x\ny","b":"1"}`}, {4, `{"a":"q\"q","b":"2"}`}}},
		{"csv blank lines skipped", Options{Format: CSV}, "\na,b\n\n1,2\n\n\n3,4\n",
			[]rec{{4, `{"a":"1","b":"2"}`}, {7, `{"a":"3","b":"4"}`}}},
		{"csv semicolon", Options{Format: CSV, Comma: ';'}, "a;b\n1,5;2\n", []rec{{2, `{"a":"1,5","b":"2"}`}}},
		{"csv header trimmed", Options{Format: CSV}, " a , b\n1,2\n", []rec{{2, `{"a":"1","b":"2"}`}}},
		{"csv header only", Options{Format: CSV}, "a,b\n", nil},
		{"csv empty", Options{Format: CSV}, "", nil},
		{"csv invalid UTF-8 and controls", Options{Format: CSV}, "a\n\xff\x01\u2028\n", []rec{{2, `{"a":"\ufffd\u0001\u2028"}`}}},
		{"ndjson", Options{Format: NDJSON}, "{\"a\": 1}\n\n  \r\n{\"b\":[1, 2]}\r\n{\"c\":null}",
			[]rec{{1, `{"a":1}`}, {4, `{"b":[1,2]}`}, {5, `{"c":null}`}}},
		{"json array", Options{Format: JSON}, "\xEF\xBB\xBF [\n {\"a\": \"x]}\\\"\"},\n\n {\"b\": {\"c\": [1, {}]}}\n]\n",
			[]rec{{2, `{"a":"x]}\""}`}, {4, `{"b":{"c":[1,{}]}}`}}},
		{"json empty array", Options{Format: JSON}, "[ ]", nil},
		{"json multi-line object", Options{Format: JSON}, "[{\n\"a\":\n1\n},{\"b\":2}]",
			[]rec{{1, `{"a":1}`}, {4, `{"b":2}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readAll(t, tt.src, tt.o, Position{})
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
			for _, r := range got {
				if !json.Valid([]byte(r.JSON)) {
					t.Errorf("line %d: invalid JSON %s", r.Line, r.JSON)
				}
			}
		})
	}
}

// TestResumeAnywhere stops after each record, starts a new Reader at the
// Position, and checks the rest comes out the same, with the same lines.
func TestResumeAnywhere(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		src  string
	}{
		{"csv", Options{Format: CSV}, "\xEF\xBB\xBFid,text\r\n1,\"multi\nline\"\r\n\r\n2,b\n3,\"x\"\"y\"\n4,\"\n\n\"\n5,e"},
		{"ndjson", Options{Format: NDJSON}, "{\"a\":1}\n\n{\"a\":2}\r\n  \n{\"a\":3}\n{\"a\":4}"},
		{"json", Options{Format: JSON}, "[\n{\"a\":1},\n\n  {\"a\":\n2} , {\"a\":\"]\"}\n,{\"a\":4}\n]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			all, end, err := readAll(t, tt.src, tt.o, Position{})
			if err != nil {
				t.Fatal(err)
			}
			if end.Offset != int64(len(tt.src)) && !strings.HasSuffix(tt.src, "\n") {
				t.Errorf("end offset %d, file has %d bytes", end.Offset, len(tt.src))
			}
			rd, _ := NewReader(strings.NewReader(tt.src), tt.o, Position{})
			for i := range all {
				if _, err := rd.Next(); err != nil {
					t.Fatal(err)
				}
				at := rd.Position()
				rest, _, err := readAll(t, tt.src, tt.o, at)
				if err != nil {
					t.Fatalf("resume after record %d at %+v: %v", i, at, err)
				}
				if !reflect.DeepEqual(rest, all[i+1:]) && (len(rest) > 0 || len(all[i+1:]) > 0) {
					t.Errorf("resume after record %d at %+v:\ngot  %v\nwant %v", i, at, rest, all[i+1:])
				}
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		src  string
		good int    // records read before the error
		want string // the error
	}{
		{"csv field count", Options{Format: CSV}, "a,b,c\n1,2,3\n4,5\n6,7,8\n", 1, "line 3: 2 fields, but the header has 3 columns"},
		{"csv bare quote", Options{Format: CSV}, "a,b\n1,2\n3,x\"y\n", 1, `line 3, column 4: bare " in non-quoted-field`},
		{"csv unterminated quote", Options{Format: CSV}, "a,b\n1,\"2\n3,4\n", 0, `extraneous or missing " in quoted-field (in the record starting on line 2)`},
		{"csv too long", Options{Format: CSV, MaxRecordBytes: 1 << 10}, "a,b\n1,2\n\"" + strings.Repeat("x", 3<<20), 1, "line 3: record longer than 1024 bytes"},
		{"csv empty header name", Options{Format: CSV}, "a,,c\n1,2,3\n", 0, "line 1: header column 2 has no name"},
		{"csv duplicate header", Options{Format: CSV}, "\nid,email,id\n", 0, `line 2: header names column "id" twice (columns 1 and 3)`},
		{"ndjson not an object", Options{Format: NDJSON}, "{\"a\":1}\n[1]\n", 1, "line 2: not a JSON object"},
		{"ndjson invalid", Options{Format: NDJSON}, "{\"a\":1}\n\n{\"a\":}\n", 1, "line 3: invalid JSON"},
		{"ndjson two objects", Options{Format: NDJSON}, "{\"a\":1} {\"b\":2}\n", 0, "line 1: invalid JSON"},
		{"ndjson too long", Options{Format: NDJSON, MaxRecordBytes: 100}, "{\"a\":\"" + strings.Repeat("x", 1<<20) + "\"}\n", 0, "line 1: record longer than 100 bytes"},
		{"json not an array", Options{Format: JSON}, "{\"a\":1}", 0, "does not start with ["},
		{"json element", Options{Format: JSON}, "[{\"a\":1},\n2]", 1, "line 2: array element is not a JSON object"},
		{"json first element", Options{Format: JSON}, "[\"x\"]", 0, "line 1: array element is not a JSON object"},
		{"json trailing comma", Options{Format: JSON}, "[{\"a\":1},]", 1, "expected an object after ,"},
		{"json missing comma", Options{Format: JSON}, "[{\"a\":1}\n{\"b\":2}]", 1, "line 2: expected , or ] after an element"},
		{"json after end", Options{Format: JSON}, "[{\"a\":1}]\n]", 1, "line 2: unexpected ']' after the array's closing ]"},
		{"json truncated", Options{Format: JSON}, "[{\"a\":1},\n{\"b\":", 1, "line 2: the file ends inside an object"},
		{"json unclosed array", Options{Format: JSON}, "[{\"a\":1}\n", 1, "the file ends before the array's closing ]"},
		{"json bad object", Options{Format: JSON}, "[{\"a\" 1}]", 0, "line 1: invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := readAll(t, tt.src, tt.o, Position{})
			var re *Error
			if !errors.As(err, &re) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if len(got) != tt.good {
				t.Errorf("%d records before the error, want %d", len(got), tt.good)
			}
			n, verr := Validate(strings.NewReader(tt.src), tt.o)
			if verr == nil || verr.Error() != err.Error() || n != int64(tt.good) {
				t.Errorf("Validate = %d, %v; want %d, %v", n, verr, tt.good, err)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []Options{{Format: "xml"}, {Format: CSV, Comma: '"'}, {Format: CSV, Comma: '\n'}} {
		if _, err := NewReader(strings.NewReader(""), o, Position{}); err == nil {
			t.Errorf("NewReader(%+v) succeeded", o)
		}
	}
	if _, err := NewReader(strings.NewReader(""), Options{Format: CSV}, Position{Offset: 10, Line: 2}); err == nil {
		t.Error("resuming a CSV file without columns succeeded")
	}
	if f, err := ParseFormat(" JSONL "); err != nil || f != NDJSON {
		t.Errorf("ParseFormat(jsonl) = %q, %v", f, err)
	}
}

// budgetReader reports the most bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestUnclosedQuoteStopsEarly: a stray quote must not make the reader
// buffer the rest of a large file.
func TestUnclosedQuoteStopsEarly(t *testing.T) {
	src := &countingReader{r: io.MultiReader(strings.NewReader("a,b\n\"1,2\n"), strings.NewReader(strings.Repeat("3,4\n", 10<<20)))}
	rd, _ := NewReader(src, Options{Format: CSV, MaxRecordBytes: 1 << 20}, Position{})
	_, err := rd.Next()
	if err == nil || !strings.Contains(err.Error(), "record longer than") {
		t.Fatalf("Next: %v, want a record-too-long error", err)
	}
	if limit := int64(1<<20 + readBuffer + len("a,b\n")); src.n > limit {
		t.Errorf("read %d bytes of a 40 MB file before failing, want at most %d", src.n, limit)
	}
}
