package records

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestExportCSVRoundTrip(t *testing.T) {
	in := `{"records":[{"email":"a@x.org","n":1.5,"ok":true,"tags":["x","y"],"note":"say \"hi\",\nbye"},
		{"email":"b@x.org","extra":null,"n":2}],"path":"/out/events.csv"}`
	x, err := ParseExport(json.RawMessage(in), "path")
	if err != nil {
		t.Fatal(err)
	}
	if x.Format != CSV || strings.Join(x.Columns, ",") != "email,n,ok,tags,note,extra" {
		t.Fatalf("format %s columns %v", x.Format, x.Columns)
	}
	var buf bytes.Buffer
	n, err := x.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo = %d, %v (wrote %d)", n, err, buf.Len())
	}
	got, _, err := readAll(t, buf.String(), Options{Format: CSV}, Position{})
	if err != nil {
		t.Fatalf("read back %q: %v", buf.String(), err)
	}
	want := []rec{
		{2, `{"email":"a@x.org","n":"1.5","ok":"true","tags":"[\"x\",\"y\"]","note":"say \"hi\",\nbye","extra":""}`},
		{4, `{"email":"b@x.org","n":"2","ok":"","tags":"","note":"","extra":""}`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%v\nwant\n%v", got, want)
	}
}

func TestExportNDJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"whole objects", `{"records":[{"a": 1, "b": {"c": [1, 2]}}, {"z": "é"}],"path":"/o/x.jsonl"}`,
			"{\"a\":1,\"b\":{\"c\":[1,2]}}\n{\"z\":\"é\"}\n"},
		{"columns", `{"records":[{"a":1,"b":2,"c":3},{"c":"x"}],"format":"ndjson","path":"/o/x.txt","columns":["c","a"]}`,
			"{\"c\":3,\"a\":1}\n{\"c\":\"x\"}\n"},
		{"empty", `{"records":[],"path":"/o/x.ndjson"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := ParseExport(json.RawMessage(tt.in), "path")
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := x.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if buf.String() != tt.want {
				t.Errorf("got %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

func TestExportCSVColumnsAndEmpty(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"records":[{"a":1,"b":2}],"key":"x.csv","columns":["b"]}`, "b\n2\n"},
		{`{"records":[],"key":"x.csv","columns":["a","b"]}`, "a,b\n"},
		{`{"records":[],"key":"x.csv"}`, ""},
	} {
		x, err := ParseExport(json.RawMessage(tt.in), "key")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := x.WriteTo(&buf); err != nil || buf.String() != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.in, buf.String(), err, tt.want)
		}
	}
}

func TestParseExportErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[]`, "want a JSON object"},
		{`null`, "want a JSON object"},
		{`{}`, "input.records is required (a list of objects); input.path is required"},
		{`{"records":{},"path":"/x.csv"}`, "input.records: want a list of objects"},
		{`{"records":[1],"path":"/x.csv"}`, "input.records[0] is not a JSON object"},
		{`{"records":[],"path":"/x.csv","colums":["a"]}`, "input.colums is not a known key"},
		{`{"records":[],"path":"/out/"}`, "names a directory"},
		{`{"records":[],"path":"/out/x"}`, "input.format is required"},
		{`{"records":[],"path":"/out/x.csv","format":"json"}`, `input.format "json": want csv or ndjson`},
		{`{"records":[],"path":"/out/x.csv","format":7}`, "input.format: want csv or ndjson"},
		{`{"records":[],"path":""}`, "input.path: want a non-empty string"},
	}
	for _, tt := range tests {
		_, err := ParseExport(json.RawMessage(tt.in), "path")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseExport(%s) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestInfer(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		src  string
		want string
	}{
		{"csv", Options{Format: CSV}, "id,email,active,score,note\n1,a@x,true,1.5,\n2,b@x,false,-3,hi\n",
			"id:number email:string active:boolean score:number note:string"},
		{"csv mixed", Options{Format: CSV}, "a\n1\nx\n", "a:string"},
		{"csv header only", Options{Format: CSV}, "a,b\n", "a:string b:string"},
		{"ndjson", Options{Format: NDJSON}, "{\"a\":1,\"b\":\"x\",\"c\":null}\n{\"c\":{\"d\":1},\"e\":[1],\"f\":true}\n",
			"a:number b:string c:object e:array f:boolean"},
		{"ndjson mixed", Options{Format: NDJSON}, "{\"a\":1}\n{\"a\":\"x\"}\n", "a:string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rd, _ := NewReader(strings.NewReader(tt.src), tt.o, Position{})
			fields, err := Infer(rd, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range fields {
				got = append(got, f.Name+":"+f.Type)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got %v, want %s", got, tt.want)
			}
		})
	}
}

func TestAppendPayload(t *testing.T) {
	r := &Record{Line: 12, Columns: []string{"e\"mail", "n"}, Values: []string{"a\x00\xc3", "<&>"}}
	r.quoted = [][]byte{append(appendString(nil, "e\"mail"), ':'), append(appendString(nil, "n"), ':')}
	got := string(AppendPayload(nil, "/in/a\tb.csv", "profiles", r))
	want := `{"file":"/in/a\tb.csv","line":12,"entity":"profiles","record":{"e\"mail":"a\u0000\ufffd","n":"<&>"}}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(got), &v); err != nil {
		t.Error(err)
	}
}
