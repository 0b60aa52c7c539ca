package records

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Export is the checked input of a file connector's `export` action:
//
//	{"records": [{...}, ...], "format": "csv", "<target>": "...", "columns": ["a", "b"]}
//
// where <target> is "path" (SFTP) or "key" (S3).
type Export struct {
	Records []json.RawMessage
	Format  Format
	Columns []string
	Target  string
}

// ParseExport checks the action input; targetKey names the key holding the
// destination. The format defaults to the destination's extension (.csv,
// .ndjson, .jsonl). Every problem is reported at once, by input key.
func ParseExport(raw json.RawMessage, targetKey string) (*Export, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil || in == nil {
		return nil, fmt.Errorf("input: want a JSON object with records and %s", targetKey)
	}
	var problems []string
	var keys []string
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "records", "format", "columns", targetKey:
		default:
			problems = append(problems, fmt.Sprintf("input.%s is not a known key (records, format, columns, %s)", k, targetKey))
		}
	}
	x := &Export{}
	if r, ok := in["records"]; !ok || bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
		problems = append(problems, "input.records is required (a list of objects)")
	} else if err := json.Unmarshal(r, &x.Records); err != nil {
		problems = append(problems, "input.records: want a list of objects")
	} else {
		for i, rec := range x.Records {
			if !isObject(rec) {
				problems = append(problems, fmt.Sprintf("input.records[%d] is not a JSON object", i))
				break
			}
		}
	}
	if t, ok := in[targetKey]; !ok {
		problems = append(problems, fmt.Sprintf("input.%s is required", targetKey))
	} else if err := json.Unmarshal(t, &x.Target); err != nil || strings.TrimSpace(x.Target) == "" {
		problems = append(problems, fmt.Sprintf("input.%s: want a non-empty string", targetKey))
	} else if strings.HasSuffix(x.Target, "/") {
		problems = append(problems, fmt.Sprintf("input.%s %q names a directory, want a file", targetKey, x.Target))
	}
	if c, ok := in["columns"]; ok && !bytes.Equal(bytes.TrimSpace(c), []byte("null")) {
		if err := json.Unmarshal(c, &x.Columns); err != nil {
			problems = append(problems, "input.columns: want a list of field names")
		}
	}
	var format string
	if f, ok := in["format"]; ok && json.Unmarshal(f, &format) != nil {
		problems = append(problems, "input.format: want csv or ndjson")
	}
	switch ext := strings.ToLower(path.Ext(x.Target)); {
	case format != "":
		f, err := ParseFormat(format)
		if err != nil || f == JSON {
			problems = append(problems, fmt.Sprintf("input.format %q: want csv or ndjson", format))
		}
		x.Format = f
	case ext == ".csv":
		x.Format = CSV
	case ext == ".ndjson" || ext == ".jsonl":
		x.Format = NDJSON
	case x.Target != "":
		problems = append(problems, fmt.Sprintf("input.format is required: %q has no .csv, .ndjson or .jsonl extension", x.Target))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	if x.Format == CSV && len(x.Columns) == 0 {
		cols, err := Columns(x.Records)
		if err != nil {
			return nil, fmt.Errorf("input.%w", err)
		}
		x.Columns = cols
	}
	return x, nil
}

// WriteTo encodes the records to w and returns the number of bytes
// written. A CSV export with no columns at all (no records, none named) is
// an empty file.
func (x *Export) WriteTo(w io.Writer) (int64, error) {
	if x.Format == CSV && len(x.Columns) == 0 {
		return 0, nil
	}
	wr, err := NewWriter(w, x.Format, x.Columns)
	if err != nil {
		return 0, err
	}
	for _, r := range x.Records {
		if err := wr.Write(r); err != nil {
			return wr.Bytes(), err
		}
	}
	err = wr.Close()
	return wr.Bytes(), err
}
