package fields

import (
	"strconv"
)

// Span locates a value inside a document: doc[Start:End]. Start is -1 when the
// path is absent.
type Span struct{ Start, End int }

// SyntaxError reports malformed JSON and where.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// maxDepth bounds nesting so that a hostile document cannot exhaust the
// stack; encoding/json uses the same limit.
const maxDepth = 10000

// Spans scans doc once, validating it as JSON, and stores in dst[i] where
// path i's value lies (Start -1 when absent; for duplicate keys the last one
// wins, as with encoding/json). dst must have at least Len() elements. It
// always runs natively: the Wasm host calls it on a guest's behalf.
func (p *Paths) Spans(doc []byte, dst []Span) error {
	if len(dst) < len(p.src) {
		return &SyntaxError{Msg: "internal: span buffer too small"}
	}
	for i := range p.src {
		dst[i] = Span{-1, -1}
	}
	s := scanner{doc: doc, spans: dst}
	i := s.ws(0)
	if i >= len(doc) {
		return &SyntaxError{Offset: i, Msg: "empty document"}
	}
	end, err := s.value(i, p.root, 0)
	if err != nil {
		return err
	}
	if end = s.ws(end); end != len(doc) {
		return &SyntaxError{Offset: end, Msg: "unexpected data after the top-level value"}
	}
	return nil
}

type scanner struct {
	doc   []byte
	spans []Span
}

func (s *scanner) fail(i int, msg string) error {
	return &SyntaxError{Offset: i, Msg: msg}
}

func (s *scanner) ws(i int) int {
	for i < len(s.doc) {
		switch s.doc[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value scans the value starting at s.doc[i] (not whitespace) and returns the
// offset just after it. n is the path node for this value, nil when no path
// goes through it.
func (s *scanner) value(i int, n *node, depth int) (int, error) {
	if i >= len(s.doc) {
		return i, s.fail(i, "unexpected end of input")
	}
	var end int
	var err error
	switch c := s.doc[i]; {
	case c == '"':
		end, _, err = s.str(i)
	case c == '{':
		end, err = s.object(i, n, depth+1)
	case c == '[':
		end, err = s.array(i, n, depth+1)
	case c == 't':
		end, err = s.literal(i, "true")
	case c == 'f':
		end, err = s.literal(i, "false")
	case c == 'n':
		end, err = s.literal(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		end, err = s.number(i)
	default:
		return i, s.fail(i, "unexpected character "+strconv.QuoteRune(rune(c)))
	}
	if err != nil {
		return end, err
	}
	if n != nil {
		for _, t := range n.terms {
			s.spans[t] = Span{i, end}
		}
	}
	return end, nil
}

func (s *scanner) object(i int, n *node, depth int) (int, error) {
	if depth > maxDepth {
		return i, s.fail(i, "nesting too deep")
	}
	i = s.ws(i + 1)
	if i < len(s.doc) && s.doc[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(s.doc) || s.doc[i] != '"' {
			return i, s.fail(i, "expected a string key")
		}
		kend, escaped, err := s.str(i)
		if err != nil {
			return kend, err
		}
		var child *node
		if n != nil && len(n.keys) > 0 {
			if escaped {
				if k, ok := String(s.doc[i:kend]); ok {
					child = n.keyChild([]byte(k))
				}
			} else {
				child = n.keyChild(s.doc[i+1 : kend-1])
			}
		}
		i = s.ws(kend)
		if i >= len(s.doc) || s.doc[i] != ':' {
			return i, s.fail(i, "expected ':' after an object key")
		}
		i, err = s.value(s.ws(i+1), child, depth)
		if err != nil {
			return i, err
		}
		i = s.ws(i)
		if i >= len(s.doc) {
			return i, s.fail(i, "unexpected end of input in an object")
		}
		switch s.doc[i] {
		case ',':
			i = s.ws(i + 1)
		case '}':
			return i + 1, nil
		default:
			return i, s.fail(i, "expected ',' or '}' in an object")
		}
	}
}

func (s *scanner) array(i int, n *node, depth int) (int, error) {
	if depth > maxDepth {
		return i, s.fail(i, "nesting too deep")
	}
	i = s.ws(i + 1)
	if i < len(s.doc) && s.doc[i] == ']' {
		return i + 1, nil
	}
	for k := 0; ; k++ {
		var child *node
		if n != nil && len(n.idx) > 0 {
			child = n.idxChild(k)
		}
		var err error
		i, err = s.value(i, child, depth)
		if err != nil {
			return i, err
		}
		i = s.ws(i)
		if i >= len(s.doc) {
			return i, s.fail(i, "unexpected end of input in an array")
		}
		switch s.doc[i] {
		case ',':
			i = s.ws(i + 1)
		case ']':
			return i + 1, nil
		default:
			return i, s.fail(i, "expected ',' or ']' in an array")
		}
	}
}

// plain marks bytes that need no attention inside a JSON string.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// str scans the string at s.doc[i] == '"' and reports whether it holds escapes.
func (s *scanner) str(i int) (end int, escaped bool, err error) {
	doc := s.doc
	j := i + 1
	for {
		for j < len(doc) && plain[doc[j]] {
			j++
		}
		if j >= len(doc) {
			return j, escaped, s.fail(i, "unterminated string")
		}
		switch c := doc[j]; {
		case c == '"':
			return j + 1, escaped, nil
		case c == '\\':
			escaped = true
			if j+1 >= len(doc) {
				return j, escaped, s.fail(j, "unterminated escape")
			}
			switch doc[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(doc) || !isHex4(doc[j+2:j+6]) {
					return j, escaped, s.fail(j, `invalid \u escape`)
				}
				j += 6
			default:
				return j, escaped, s.fail(j, "invalid escape "+strconv.QuoteRune(rune(doc[j+1])))
			}
		default:
			return j, escaped, s.fail(j, "control character in string")
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (s *scanner) literal(i int, lit string) (int, error) {
	if len(s.doc)-i < len(lit) || string(s.doc[i:i+len(lit)]) != lit {
		return i, s.fail(i, "invalid literal, want "+lit)
	}
	return i + len(lit), nil
}

func (s *scanner) number(i int) (int, error) {
	doc, j := s.doc, i
	digits := func() int {
		k := j
		for j < len(doc) && doc[j] >= '0' && doc[j] <= '9' {
			j++
		}
		return j - k
	}
	if doc[j] == '-' {
		j++
	}
	if j < len(doc) && doc[j] == '0' {
		j++
	} else if digits() == 0 {
		return j, s.fail(j, "invalid number")
	}
	if j < len(doc) && doc[j] == '.' {
		j++
		if digits() == 0 {
			return j, s.fail(j, "invalid number: no digits after '.'")
		}
	}
	if j < len(doc) && (doc[j] == 'e' || doc[j] == 'E') {
		j++
		if j < len(doc) && (doc[j] == '+' || doc[j] == '-') {
			j++
		}
		if digits() == 0 {
			return j, s.fail(j, "invalid number: no digits in the exponent")
		}
	}
	return j, nil
}
