package records

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
)

// Writer writes records, given as JSON objects, as CSV (a header row, then
// one row per record) or NDJSON (one object per line).
type Writer struct {
	format  Format
	w       *countWriter
	cw      *csv.Writer
	columns []string
	header  bool // CSV header written
	n       int64
	row     []string
	line    bytes.Buffer
}

// NewWriter writes format (CSV or NDJSON) to w. columns chooses and orders
// the fields written; CSV needs them (see Columns), NDJSON writes each
// object whole when columns is empty.
func NewWriter(w io.Writer, format Format, columns []string) (*Writer, error) {
	switch format {
	case CSV:
		if len(columns) == 0 {
			return nil, fmt.Errorf("csv output needs columns")
		}
	case NDJSON:
	default:
		return nil, fmt.Errorf("format %q cannot be written, want csv or ndjson", format)
	}
	cw := &countWriter{w: w}
	wr := &Writer{format: format, w: cw, columns: columns}
	if format == CSV {
		wr.cw = csv.NewWriter(cw)
		wr.row = make([]string, len(columns))
	}
	return wr, nil
}

// Write writes one record; obj must be a JSON object.
func (wr *Writer) Write(obj json.RawMessage) error {
	var fields map[string]json.RawMessage
	if len(wr.columns) > 0 {
		if err := json.Unmarshal(obj, &fields); err != nil {
			return fmt.Errorf("record %d is not a JSON object: %w", wr.n, err)
		}
	} else if !isObject(obj) {
		return fmt.Errorf("record %d is not a JSON object", wr.n)
	}
	switch wr.format {
	case CSV:
		if err := wr.writeHeader(); err != nil {
			return err
		}
		for i, c := range wr.columns {
			v, err := text(fields[c])
			if err != nil {
				return fmt.Errorf("record %d, field %q: %w", wr.n, c, err)
			}
			wr.row[i] = v
		}
		if err := wr.cw.Write(wr.row); err != nil {
			return err
		}
	case NDJSON:
		wr.line.Reset()
		if len(wr.columns) == 0 {
			if err := json.Compact(&wr.line, obj); err != nil {
				return fmt.Errorf("record %d: %w", wr.n, err)
			}
		} else {
			b := []byte{'{'}
			for _, c := range wr.columns {
				v, ok := fields[c]
				if !ok {
					continue
				}
				if len(b) > 1 {
					b = append(b, ',')
				}
				b = append(appendString(b, c), ':')
				b = append(b, v...)
			}
			b = append(b, '}')
			if err := json.Compact(&wr.line, b); err != nil {
				return fmt.Errorf("record %d: %w", wr.n, err)
			}
		}
		wr.line.WriteByte('\n')
		if _, err := wr.w.Write(wr.line.Bytes()); err != nil {
			return err
		}
	}
	wr.n++
	return nil
}

func (wr *Writer) writeHeader() error {
	if wr.header {
		return nil
	}
	wr.header = true
	return wr.cw.Write(wr.columns)
}

// Close writes what is buffered (and a CSV header when no record came).
func (wr *Writer) Close() error {
	if wr.cw == nil {
		return nil
	}
	if err := wr.writeHeader(); err != nil {
		return err
	}
	wr.cw.Flush()
	return wr.cw.Error()
}

// Records is the number of records written.
func (wr *Writer) Records() int64 { return wr.n }

// Bytes is the number of bytes written so far.
func (wr *Writer) Bytes() int64 { return wr.w.n }

// Columns returns the top-level keys of objs in the order first seen: the
// CSV columns of records that name none.
func Columns(objs []json.RawMessage) ([]string, error) {
	var cols []string
	seen := map[string]bool{}
	for i, o := range objs {
		if !isObject(o) {
			return nil, fmt.Errorf("records[%d] is not a JSON object", i)
		}
		err := objectKinds(o, func(name, _ string) {
			if !seen[name] {
				seen[name] = true
				cols = append(cols, name)
			}
		})
		if err != nil {
			return nil, fmt.Errorf("records[%d]: %w", i, err)
		}
	}
	return cols, nil
}

func isObject(raw json.RawMessage) bool {
	b := bytes.TrimSpace(raw)
	return len(b) > 0 && b[0] == '{'
}

// text is a JSON value as a CSV cell: strings unquoted, null and missing
// empty, numbers and booleans as written, objects and arrays as compact
// JSON.
func text(raw json.RawMessage) (string, error) {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || string(b) == "null" {
		return "", nil
	}
	switch b[0] {
	case '"':
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	case '{', '[':
		var out bytes.Buffer
		err := json.Compact(&out, b)
		return out.String(), err
	}
	return string(b), nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
