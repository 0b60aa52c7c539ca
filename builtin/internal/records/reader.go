package records

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Format is a record file format.
type Format string

// Formats.
const (
	CSV    Format = "csv"    // a header row, then one record per row
	NDJSON Format = "ndjson" // one JSON object per line
	JSON   Format = "json"   // one JSON array of objects
)

// ParseFormat checks a configured format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(s))); f {
	case CSV, NDJSON, JSON:
		return f, nil
	case "jsonl":
		return NDJSON, nil
	}
	return "", fmt.Errorf("format %q, want csv, ndjson or json", s)
}

// DefaultMaxRecordBytes bounds one record; memory use per open file is about
// this plus the read buffer.
const DefaultMaxRecordBytes = 16 << 20

// readBuffer is the read-ahead per open file. Large reads let an SFTP client
// keep several requests in flight.
const readBuffer = 512 << 10

// Options say how to read a file.
type Options struct {
	Format Format
	// Comma is the CSV field delimiter (0: ',').
	Comma rune
	// MaxRecordBytes bounds one record (0: DefaultMaxRecordBytes). A CSV
	// record is cut within one read buffer (512 KiB) past the bound.
	MaxRecordBytes int
}

func (o Options) check() (Options, error) {
	if _, err := ParseFormat(string(o.Format)); err != nil {
		return o, err
	}
	if o.Comma == 0 {
		o.Comma = ','
	}
	if o.Comma == '"' || o.Comma == '\r' || o.Comma == '\n' || o.Comma == utf8.RuneError || !utf8.ValidRune(o.Comma) {
		return o, fmt.Errorf("delimiter %q cannot separate CSV fields", o.Comma)
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	return o, nil
}

// Position is where a Reader stands: enough to resume reading the same file
// after a restart.
type Position struct {
	// Offset is the byte offset just past the last record read.
	Offset int64 `json:"offset"`
	// Line is the line number at Offset (1 at the start of the file).
	Line int64 `json:"line"`
	// Columns is the CSV header, once read.
	Columns []string `json:"columns,omitempty"`
}

// Error is a malformed record: the file's content is wrong, and reading it
// again will not help.
type Error struct {
	Line   int64
	Column int // 0: not known
	Msg    string
}

func (e *Error) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Record is one record read. A Reader reuses it: it is valid until the next
// call to Next.
type Record struct {
	// Line is the line the record starts on.
	Line int64
	// Columns and Values are a CSV record's header and fields.
	Columns []string
	Values  []string
	// Object is a JSON record, compacted.
	Object []byte

	quoted [][]byte // `"column":` for each CSV column
}

// AppendJSON appends the record as a JSON object (CSV columns in header
// order, every value a string).
func (r *Record) AppendJSON(dst []byte) []byte {
	if r.Columns == nil {
		return append(dst, r.Object...)
	}
	dst = append(dst, '{')
	for i, v := range r.Values {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, r.quoted[i]...)
		dst = appendString(dst, v)
	}
	return append(dst, '}')
}

// decoder is one format's parser.
type decoder interface {
	next(rec *Record) error
	position() Position
}

// Reader streams the records of one file.
type Reader struct {
	dec decoder
	rec Record
	err error
}

// NewReader reads r, whose first byte is the file's byte at.Offset (the
// zero Position is the start of the file).
func NewReader(r io.Reader, o Options, at Position) (*Reader, error) {
	o, err := o.check()
	if err != nil {
		return nil, err
	}
	if at.Offset < 0 || (at.Offset > 0 && at.Line < 1) {
		return nil, fmt.Errorf("resume position %+v is not valid", at)
	}
	if at.Line < 1 {
		at.Line = 1
	}
	src := &budget{r: r, limit: -1}
	br := bufio.NewReaderSize(src, readBuffer)
	rd := &Reader{}
	switch o.Format {
	case CSV:
		if at.Offset > 0 && len(at.Columns) == 0 {
			return nil, errors.New("resume position of a CSV file has no columns")
		}
		rd.dec = newCSVDecoder(src, br, o, at)
	case NDJSON:
		rd.dec = &ndjsonDecoder{br: br, max: o.MaxRecordBytes, off: at.Offset, line: at.Line}
	case JSON:
		rd.dec = newArrayDecoder(br, o, at)
	}
	return rd, nil
}

// Next returns the next record, io.EOF after the last one, an *Error for a
// malformed record, or the read error of the underlying reader. After an
// error, Next keeps returning it.
func (rd *Reader) Next() (*Record, error) {
	if rd.err != nil {
		return nil, rd.err
	}
	if err := rd.dec.next(&rd.rec); err != nil {
		rd.err = err
		return nil, err
	}
	return &rd.rec, nil
}

// Position is where the reader stands after the last record returned.
func (rd *Reader) Position() Position { return rd.dec.position() }

// Validate reads r to its end and returns the number of records, or the
// first malformed record's *Error.
func Validate(r io.Reader, o Options) (int64, error) {
	rd, err := NewReader(r, o, Position{})
	if err != nil {
		return 0, err
	}
	var n int64
	for {
		_, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// errTooLarge stops a record that grew past MaxRecordBytes.
var errTooLarge = errors.New("record too large")

// budget counts the bytes read through it and refuses to read past limit
// (when limit >= 0). It bounds what a parser that cannot limit a record
// itself (encoding/csv) may buffer.
type budget struct {
	r     io.Reader
	n     int64
	limit int64
}

func (b *budget) Read(p []byte) (int, error) {
	if b.limit >= 0 {
		left := b.limit - b.n
		if left <= 0 {
			return 0, errTooLarge
		}
		if int64(len(p)) > left {
			p = p[:left]
		}
	}
	n, err := b.r.Read(p)
	b.n += int64(n)
	return n, err
}

// skipBOM drops a UTF-8 byte order mark at the start of a file and returns
// its length.
func skipBOM(br *bufio.Reader) int64 {
	if b, err := br.Peek(3); err == nil && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, _ = br.Discard(3)
		return 3
	}
	return 0
}
