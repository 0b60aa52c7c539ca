package records

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
)

// csvDecoder reads CSV with encoding/csv. Offsets and line numbers of
// encoding/csv count from where it started; base and baseLine turn them
// into the file's.
type csvDecoder struct {
	src      *budget
	cr       *csv.Reader
	max      int64
	start    int64 // file offset of the first byte read
	base     int64 // file offset of the csv.Reader's first byte
	baseLine int64 // line number of the csv.Reader's first line
	pos      Position
	header   bool // the header is still to be read
	quoted   [][]byte
}

func newCSVDecoder(src *budget, br *bufio.Reader, o Options, at Position) *csvDecoder {
	d := &csvDecoder{src: src, max: int64(o.MaxRecordBytes), pos: at, start: at.Offset}
	d.base = at.Offset
	if at.Offset == 0 {
		d.base += skipBOM(br)
		d.header = true
	}
	d.baseLine = at.Line
	// csv.NewReader keeps br as is (a *bufio.Reader of at least 4 KiB), so
	// InputOffset counts exactly what the parser consumed from br.
	d.cr = csv.NewReader(br)
	d.cr.Comma = o.Comma
	d.cr.ReuseRecord = true
	if !d.header {
		d.cr.FieldsPerRecord = len(at.Columns)
		d.setColumns(at.Columns)
	}
	d.arm()
	return d
}

// arm lets the parser read one more record: up to max bytes past the end
// of the last record, plus one read-ahead buffer.
func (d *csvDecoder) arm() {
	d.src.limit = d.pos.Offset - d.start + d.max + readBuffer
}

func (d *csvDecoder) setColumns(cols []string) {
	d.pos.Columns = cols
	d.quoted = make([][]byte, len(cols))
	for i, c := range cols {
		d.quoted[i] = append(appendString(nil, c), ':')
	}
}

func (d *csvDecoder) position() Position { return d.pos }

func (d *csvDecoder) next(rec *Record) error {
	if d.header {
		fields, err := d.read()
		if err != nil {
			return err
		}
		line := d.line(d.cr.FieldPos(0))
		cols := make([]string, len(fields))
		seen := make(map[string]int, len(fields))
		for i, f := range fields {
			// Names become JSON keys: two names that differ only in
			// invalid bytes would become one.
			f = strings.ToValidUTF8(strings.TrimSpace(f), "\uFFFD")
			switch {
			case f == "":
				return &Error{Line: line, Msg: fmt.Sprintf("header column %d has no name", i+1)}
			case seen[f] > 0:
				return &Error{Line: line, Msg: fmt.Sprintf("header names column %q twice (columns %d and %d)", f, seen[f], i+1)}
			}
			seen[f] = i + 1
			cols[i] = f
		}
		d.cr.FieldsPerRecord = len(cols)
		d.setColumns(cols)
		d.header = false
		d.advance(fields)
	}
	fields, err := d.read()
	if err != nil {
		return err
	}
	rec.Line = d.line(d.cr.FieldPos(0))
	rec.Columns, rec.Values, rec.Object, rec.quoted = d.pos.Columns, fields, nil, d.quoted
	d.advance(fields)
	return nil
}

// read returns the next row, translating encoding/csv's errors into *Error
// with the file's line numbers.
func (d *csvDecoder) read() ([]string, error) {
	fields, err := d.cr.Read()
	if err == nil {
		return fields, nil
	}
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe) && errors.Is(pe.Err, csv.ErrFieldCount):
		return nil, &Error{Line: d.line(pe.StartLine, 0),
			Msg: fmt.Sprintf("%d fields, but the header has %d columns", len(fields), len(d.pos.Columns))}
	case errors.As(err, &pe):
		msg := pe.Err.Error()
		if pe.StartLine != pe.Line {
			msg += fmt.Sprintf(" (in the record starting on line %d)", d.line(pe.StartLine, 0))
		}
		return nil, &Error{Line: d.line(pe.Line, 0), Column: pe.Column, Msg: msg}
	case errors.Is(err, errTooLarge):
		return nil, &Error{Line: d.pos.Line, Msg: fmt.Sprintf("record longer than %d bytes (an unclosed quote?)", d.max)}
	}
	return nil, err
}

// line turns a csv.Reader line number into the file's.
func (d *csvDecoder) line(rel, _ int) int64 { return d.baseLine + int64(rel) - 1 }

// advance moves the position past the row just read.
func (d *csvDecoder) advance(fields []string) {
	last := len(fields) - 1
	endLine, _ := d.cr.FieldPos(last)
	// A quoted last field may span lines; encoding/csv turns each \r\n in
	// it into \n, so counting \n gives the lines it spans.
	endLine += strings.Count(fields[last], "\n")
	d.pos.Offset = d.base + d.cr.InputOffset()
	d.pos.Line = d.baseLine + int64(endLine)
	d.arm()
}
