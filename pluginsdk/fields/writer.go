package fields

import (
	"strconv"
	"unicode/utf8"
)

// Object appends one JSON object to a byte slice, member by member, so a
// connector builds its output without reflection:
//
//	o := fields.NewObject(buf[:0])
//	o.String("email", email)
//	o.Raw("revenue", raw) // a raw JSON value as Extract returned it
//	out := o.Bytes()
type Object struct {
	buf []byte
	n   int
}

// NewObject starts an object appended to dst.
func NewObject(dst []byte) Object { return Object{buf: append(dst, '{')} }

func (o *Object) key(k string) {
	if o.n > 0 {
		o.buf = append(o.buf, ',')
	}
	o.n++
	o.buf = AppendString(o.buf, k)
	o.buf = append(o.buf, ':')
}

// Raw adds a member whose value is raw JSON, copied as is; an empty raw
// (an absent field) is written as null. The caller vouches that raw is valid
// JSON — values returned by Extract are.
func (o *Object) Raw(k string, raw []byte) {
	o.key(k)
	if len(raw) == 0 {
		o.buf = append(o.buf, "null"...)
		return
	}
	o.buf = append(o.buf, raw...)
}

// String adds a string member.
func (o *Object) String(k, v string) {
	o.key(k)
	o.buf = AppendString(o.buf, v)
}

// Int adds an integer member.
func (o *Object) Int(k string, v int64) {
	o.key(k)
	o.buf = strconv.AppendInt(o.buf, v, 10)
}

// Float adds a number member (shortest representation that round-trips).
func (o *Object) Float(k string, v float64) {
	o.key(k)
	o.buf = strconv.AppendFloat(o.buf, v, 'g', -1, 64)
}

// Bool adds a boolean member.
func (o *Object) Bool(k string, v bool) {
	o.key(k)
	o.buf = strconv.AppendBool(o.buf, v)
}

// Null adds a null member.
func (o *Object) Null(k string) {
	o.key(k)
	o.buf = append(o.buf, "null"...)
}

// Bytes closes the object and returns the buffer with it appended.
func (o *Object) Bytes() []byte {
	return append(o.buf, '}')
}

const hexDigits = "0123456789abcdef"

// unescaped marks the bytes AppendString copies as they are: printable ASCII
// other than the quote and the backslash.
var unescaped = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD and
// U+2028/U+2029 are escaped, as with encoding/json; HTML characters are not
// escaped (payloads are not HTML).
func AppendString(dst []byte, s string) []byte {
	// Keys and most values need no escaping: find that out with one table
	// load per byte, then copy s whole. In a Go guest the byte loop below,
	// with its four comparisons per byte, was the largest single item of
	// the hello mapping (pluginsdk/RATIONALE.md §8).
	i := 0
	for i < len(s) && unescaped[s[i]] {
		i++
	}
	dst = append(dst, '"')
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers;
		// encoding/json escapes them too.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
