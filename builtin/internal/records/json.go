package records

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ndjsonDecoder reads one JSON object per line; blank lines are skipped.
type ndjsonDecoder struct {
	br   *bufio.Reader
	max  int
	off  int64
	line int64
	buf  []byte
	obj  bytes.Buffer
}

func (d *ndjsonDecoder) position() Position { return Position{Offset: d.off, Line: d.line} }

func (d *ndjsonDecoder) next(rec *Record) error {
	for {
		raw, err := d.readLine()
		if err != nil {
			return err
		}
		if raw == nil {
			return io.EOF
		}
		line := d.line
		d.off += int64(len(raw))
		d.line++
		text := bytes.TrimSpace(raw)
		if len(text) == 0 {
			continue
		}
		if text[0] != '{' {
			return &Error{Line: line, Msg: "not a JSON object"}
		}
		d.obj.Reset()
		if err := json.Compact(&d.obj, text); err != nil {
			return &Error{Line: line, Msg: "invalid JSON: " + err.Error()}
		}
		rec.Line, rec.Columns, rec.Values, rec.Object = line, nil, nil, d.obj.Bytes()
		return nil
	}
}

// readLine returns the next line with its newline, nil at the end of the
// input, or an *Error for a line longer than max.
func (d *ndjsonDecoder) readLine() ([]byte, error) {
	line, err := d.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		d.buf = append(d.buf[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(d.buf) > d.max {
				return nil, &Error{Line: d.line, Msg: fmt.Sprintf("record longer than %d bytes", d.max)}
			}
			line, err = d.br.ReadSlice('\n')
			d.buf = append(d.buf, line...)
		}
		line = d.buf
	}
	switch {
	case len(line) > d.max+2: // the record plus \r\n
		return nil, &Error{Line: d.line, Msg: fmt.Sprintf("record longer than %d bytes", d.max)}
	case errors.Is(err, io.EOF) && len(line) == 0:
		return nil, nil
	case errors.Is(err, io.EOF):
		return line, nil
	case err != nil:
		return nil, err
	}
	return line, nil
}

// arrayDecoder reads one top-level JSON array of objects, element by
// element, so that a resumed reader can start just past any element.
type arrayDecoder struct {
	br    *bufio.Reader
	max   int
	off   int64
	line  int64
	state int
	buf   []byte
	obj   bytes.Buffer
}

// arrayDecoder states.
const (
	arrayStart = iota // before '['
	arrayFirst        // after '['
	arrayAfter        // after an element
	arrayDone         // after ']'
)

func newArrayDecoder(br *bufio.Reader, o Options, at Position) *arrayDecoder {
	d := &arrayDecoder{br: br, max: o.MaxRecordBytes, off: at.Offset, line: at.Line, state: arrayAfter}
	if at.Offset == 0 {
		d.off = skipBOM(br)
		d.state = arrayStart
	}
	return d
}

func (d *arrayDecoder) position() Position { return Position{Offset: d.off, Line: d.line} }

func (d *arrayDecoder) next(rec *Record) error {
	for {
		c, err := d.skipSpace()
		if errors.Is(err, io.EOF) {
			if d.state == arrayDone {
				return io.EOF
			}
			return &Error{Line: d.line, Msg: "the file ends before the array's closing ]"}
		}
		if err != nil {
			return err
		}
		switch {
		case d.state == arrayDone:
			return &Error{Line: d.line, Msg: fmt.Sprintf("unexpected %q after the array's closing ]", c)}
		case d.state == arrayStart && c != '[':
			return &Error{Line: d.line, Msg: "a json file must hold one array of objects; it does not start with ["}
		case d.state == arrayStart:
			d.consume(1)
			d.state = arrayFirst
		case c == ']':
			d.consume(1)
			d.state = arrayDone
		case d.state == arrayAfter && c == ',':
			d.consume(1)
			c, err = d.skipSpace()
			if err != nil || c == ']' {
				return &Error{Line: d.line, Msg: "expected an object after ,"}
			}
			return d.element(rec, c)
		case d.state == arrayAfter:
			return &Error{Line: d.line, Msg: fmt.Sprintf("expected , or ] after an element, found %q", c)}
		default:
			return d.element(rec, c)
		}
	}
}

func (d *arrayDecoder) element(rec *Record, c byte) error {
	line := d.line
	if c != '{' {
		return &Error{Line: line, Msg: "array element is not a JSON object"}
	}
	if err := d.scanValue(); err != nil {
		return err
	}
	d.obj.Reset()
	if err := json.Compact(&d.obj, d.buf); err != nil {
		return &Error{Line: line, Msg: "invalid JSON: " + err.Error()}
	}
	d.state = arrayAfter
	rec.Line, rec.Columns, rec.Values, rec.Object = line, nil, nil, d.obj.Bytes()
	return nil
}

// skipSpace consumes white space and returns the next byte, unread.
func (d *arrayDecoder) skipSpace() (byte, error) {
	for {
		b, err := d.br.Peek(1)
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			d.consume(1)
		default:
			return b[0], nil
		}
	}
}

func (d *arrayDecoder) consume(n int) {
	b, _ := d.br.Peek(n)
	d.line += int64(bytes.Count(b, []byte{'\n'}))
	d.off += int64(n)
	_, _ = d.br.Discard(n)
}

// scanValue copies one object or array into buf: up to the bracket that
// closes the first one, skipping brackets inside strings. Its syntax is
// checked afterwards by json.Compact.
func (d *arrayDecoder) scanValue() error {
	d.buf = d.buf[:0]
	depth, inString, escaped := 0, false, false
	for {
		if d.br.Buffered() == 0 {
			if _, err := d.br.Peek(1); err != nil {
				if errors.Is(err, io.EOF) {
					return &Error{Line: d.line, Msg: "the file ends inside an object"}
				}
				return err
			}
		}
		chunk, _ := d.br.Peek(d.br.Buffered())
		end := -1
		for i, c := range chunk {
			switch {
			case inString && escaped:
				escaped = false
			case inString && c == '\\':
				escaped = true
			case inString && c == '"':
				inString = false
			case inString:
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
			if depth == 0 {
				end = i + 1
				break
			}
		}
		n := len(chunk)
		if end >= 0 {
			n = end
		}
		d.buf = append(d.buf, chunk[:n]...)
		d.consume(n)
		if end >= 0 {
			return nil
		}
		if len(d.buf) > d.max {
			return &Error{Line: d.line, Msg: fmt.Sprintf("record longer than %d bytes", d.max)}
		}
	}
}
