package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Decode parses a JSON payload into the value model used everywhere in this
// package: map[string]any, []any, string, json.Number, bool and nil. Numbers
// stay json.Number so that their text survives (an order ID such as
// 12345678901234567890 is not rounded to a float64).
//
// The result is what encoding/json gives with UseNumber (duplicate keys: the
// last wins; invalid UTF-8 and lone surrogates become U+FFFD), and a
// differential fuzz test keeps it so. It is hand-written because it runs once
// per event on the hot path, where encoding/json's reflection and per-value
// allocations cost several times more: the payload is copied to a string
// once and every key, number and string without escapes is a substring of
// it, and arrays and objects are allocated once at their final size. The
// flip side is that a value kept from the result keeps the whole payload
// text alive.
func Decode(payload []byte) (any, error) {
	d := decoder{s: string(payload)}
	d.skipSpace()
	if d.pos == len(d.s) {
		return nil, errors.New("decode JSON: empty payload")
	}
	v, err := d.value()
	if err != nil {
		return nil, fmt.Errorf("decode JSON: %w", err)
	}
	d.skipSpace()
	if d.pos != len(d.s) {
		return nil, fmt.Errorf("decode JSON: unexpected data after the value at offset %d", d.pos)
	}
	return v, nil
}

// maxDepth bounds nesting like encoding/json does, so that a hostile payload
// of ten million '[' cannot exhaust memory through recursion.
const maxDepth = 10000

type decoder struct {
	s     string
	pos   int
	depth int
	// stack holds the elements of the arrays and objects being decoded
	// (objects as key, value pairs), so each one is allocated once.
	stack []any
	keys  []string
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf(format+" at offset %d", append(args, d.pos)...)
}

func (d *decoder) unexpected(what string) error {
	if d.pos >= len(d.s) {
		return fmt.Errorf("unexpected end of input, want %s", what)
	}
	r, _ := utf8.DecodeRuneInString(d.s[d.pos:])
	return d.errorf("unexpected %q, want %s", r, what)
}

func (d *decoder) value() (any, error) {
	if d.pos >= len(d.s) {
		return nil, d.unexpected("a value")
	}
	switch c := d.s[d.pos]; {
	case c == '{':
		return d.object()
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case d.literal("true"):
		return true, nil
	case d.literal("false"):
		return false, nil
	case d.literal("null"):
		return nil, nil
	}
	return nil, d.unexpected("a value")
}

func (d *decoder) literal(lit string) bool {
	if len(d.s)-d.pos >= len(lit) && d.s[d.pos:d.pos+len(lit)] == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return d.errorf("nesting deeper than %d", maxDepth)
	}
	return nil
}

func (d *decoder) object() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // '{'
	base := len(d.stack)
	d.skipSpace()
	if d.pos < len(d.s) && d.s[d.pos] == '}' {
		d.pos++
		d.depth--
		return map[string]any{}, nil
	}
	for {
		if d.pos >= len(d.s) || d.s[d.pos] != '"' {
			return nil, d.unexpected("a string key")
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.pos >= len(d.s) || d.s[d.pos] != ':' {
			return nil, d.unexpected("':' after an object key")
		}
		d.pos++
		d.skipSpace()
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
		d.stack = append(d.stack, v)
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == ',' {
			d.pos++
			d.skipSpace()
			continue
		}
		if d.pos < len(d.s) && d.s[d.pos] == '}' {
			d.pos++
			break
		}
		return nil, d.unexpected("',' or '}' in an object")
	}
	n := len(d.stack) - base
	m := make(map[string]any, n)
	keys, vals := d.keys[len(d.keys)-n:], d.stack[base:]
	for i, k := range keys {
		m[k] = vals[i]
	}
	clear(vals) // drop references so the scratch stack keeps nothing alive
	d.stack = d.stack[:base]
	d.keys = d.keys[:len(d.keys)-n]
	d.depth--
	return m, nil
}

func (d *decoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	d.pos++ // '['
	base := len(d.stack)
	d.skipSpace()
	if d.pos < len(d.s) && d.s[d.pos] == ']' {
		d.pos++
		d.depth--
		return []any{}, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.stack = append(d.stack, v)
		d.skipSpace()
		if d.pos < len(d.s) && d.s[d.pos] == ',' {
			d.pos++
			d.skipSpace()
			continue
		}
		if d.pos < len(d.s) && d.s[d.pos] == ']' {
			d.pos++
			break
		}
		return nil, d.unexpected("',' or ']' in an array")
	}
	out := make([]any, len(d.stack)-base)
	copy(out, d.stack[base:])
	clear(d.stack[base:])
	d.stack = d.stack[:base]
	d.depth--
	return out, nil
}

// number scans an RFC 8259 number and returns its text as a json.Number.
func (d *decoder) number() (any, error) {
	start := d.pos
	if d.s[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.s) && d.s[d.pos] == '0':
		d.pos++
	case d.pos < len(d.s) && d.s[d.pos] >= '1' && d.s[d.pos] <= '9':
		d.digits()
	default:
		return nil, d.unexpected("a digit")
	}
	if d.pos < len(d.s) && d.s[d.pos] == '.' {
		d.pos++
		if d.digits() == 0 {
			return nil, d.unexpected("a digit after '.'")
		}
	}
	if d.pos < len(d.s) && (d.s[d.pos] == 'e' || d.s[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.s) && (d.s[d.pos] == '+' || d.s[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return nil, d.unexpected("a digit in the exponent")
		}
	}
	return json.Number(d.s[start:d.pos]), nil
}

func (d *decoder) digits() int {
	start := d.pos
	for d.pos < len(d.s) && d.s[d.pos] >= '0' && d.s[d.pos] <= '9' {
		d.pos++
	}
	return d.pos - start
}

// str scans a string. Without escapes or invalid UTF-8, the result is a
// substring of the payload and costs nothing.
func (d *decoder) str() (string, error) {
	d.pos++ // '"'
	start := d.pos
	for d.pos < len(d.s) {
		c := d.s[d.pos]
		switch {
		case c == '"':
			s := d.s[start:d.pos]
			d.pos++
			return s, nil
		case c == '\\' || c >= utf8.RuneSelf:
			return d.slowStr(start)
		case c < 0x20:
			return "", d.errorf("control character %q in a string", c)
		}
		d.pos++
	}
	return "", d.unexpected("'\"' to end the string")
}

// slowStr continues a string that has escapes or non-ASCII bytes, from
// d.pos; the bytes from start to d.pos are plain ASCII.
func (d *decoder) slowStr(start int) (string, error) {
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.s[start:d.pos]...)
	for d.pos < len(d.s) {
		c := d.s[d.pos]
		switch {
		case c == '"':
			d.pos++
			return string(buf), nil
		case c == '\\':
			var err error
			if buf, err = d.escape(buf); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", d.errorf("control character %q in a string", c)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.pos++
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.pos:])
			buf = utf8.AppendRune(buf, r) // invalid bytes become U+FFFD
			d.pos += size
		}
	}
	return "", d.unexpected("'\"' to end the string")
}

func (d *decoder) escape(buf []byte) ([]byte, error) {
	d.pos++ // '\\'
	if d.pos >= len(d.s) {
		return nil, d.unexpected("an escape")
	}
	c := d.s[d.pos]
	d.pos++
	switch c {
	case '"', '\\', '/':
		return append(buf, c), nil
	case 'b':
		return append(buf, '\b'), nil
	case 'f':
		return append(buf, '\f'), nil
	case 'n':
		return append(buf, '\n'), nil
	case 'r':
		return append(buf, '\r'), nil
	case 't':
		return append(buf, '\t'), nil
	case 'u':
		r, err := d.hex4()
		if err != nil {
			return nil, err
		}
		if utf16.IsSurrogate(r) {
			// A high surrogate followed by an escaped low one is one rune;
			// anything else is a lone surrogate, which becomes U+FFFD.
			r2 := rune(-1)
			if len(d.s)-d.pos >= 6 && d.s[d.pos] == '\\' && d.s[d.pos+1] == 'u' {
				save := d.pos
				d.pos += 2
				if r2, err = d.hex4(); err != nil {
					return nil, err
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					return utf8.AppendRune(buf, dec), nil
				}
				d.pos = save
			}
			return utf8.AppendRune(buf, utf8.RuneError), nil
		}
		return utf8.AppendRune(buf, r), nil
	}
	d.pos--
	return nil, d.unexpected("an escape (one of \" \\ / b f n r t u)")
}

func (d *decoder) hex4() (rune, error) {
	if len(d.s)-d.pos < 4 {
		d.pos = len(d.s)
		return 0, d.unexpected("four hex digits after \\u")
	}
	n, err := strconv.ParseUint(d.s[d.pos:d.pos+4], 16, 32)
	if err != nil {
		return 0, d.errorf("bad \\u escape %q", d.s[d.pos:d.pos+4])
	}
	d.pos += 4
	return rune(n), nil
}
