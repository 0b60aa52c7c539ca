package stats

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Value kinds of a scanned JSON value.
type kind uint8

const (
	kindNull kind = iota
	kindString
	kindNumber
	kindBool
	kindObject
	kindArray
)

// typeNames is indexed by kind.
var typeNames = [...]string{"null", "string", "number", "boolean", "object", "array"}

var errSyntax = errors.New("invalid JSON")

// member is one top-level member of a JSON object, as raw bytes.
type member struct {
	key    []byte // between the quotes, escapes not decoded
	keyEsc bool   // key has escapes
	val    []byte // raw value (strings with their quotes)
	kind   kind
}

// members appends the top-level members of the JSON object in data to dst,
// without building a tree: the overview looks only at top-level fields, and
// decoding every record into map[string]any would cost more than all the
// counting. Nested values are skipped by bracket matching. A payload that is
// not an object is errSyntax; the store validated the JSON already, so this
// is a guard, not a validator.
func members(data []byte, dst []member) ([]member, error) {
	i := skipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return dst, errSyntax
	}
	i = skipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return dst, nil
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return dst, errSyntax
		}
		end, esc := stringEnd(data, i)
		if end < 0 {
			return dst, errSyntax
		}
		key := data[i+1 : end-1]
		i = skipWS(data, end)
		if i >= len(data) || data[i] != ':' {
			return dst, errSyntax
		}
		i = skipWS(data, i+1)
		vend, k := valueEnd(data, i)
		if vend < 0 {
			return dst, errSyntax
		}
		dst = append(dst, member{key: key, keyEsc: esc, val: data[i:vend], kind: k})
		i = skipWS(data, vend)
		if i >= len(data) {
			return dst, errSyntax
		}
		if data[i] == '}' {
			return dst, nil
		}
		if data[i] != ',' {
			return dst, errSyntax
		}
		i = skipWS(data, i+1)
	}
}

func skipWS(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index after the closing quote of the string that
// starts at data[i] == '"', and whether it contains escapes.
func stringEnd(data []byte, i int) (int, bool) {
	esc := false
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			esc = true
			j++
		case '"':
			return j + 1, esc
		}
	}
	return -1, esc
}

// valueEnd returns the end of the value starting at data[i] and its kind.
func valueEnd(data []byte, i int) (int, kind) {
	if i >= len(data) {
		return -1, kindNull
	}
	switch c := data[i]; {
	case c == '"':
		end, _ := stringEnd(data, i)
		return end, kindString
	case c == '{' || c == '[':
		k := kindObject
		if c == '[' {
			k = kindArray
		}
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, _ := stringEnd(data, j)
				if end < 0 {
					return -1, k
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, k
				}
			}
		}
		return -1, k
	case c == 't' || c == 'f' || c == 'n':
		j := i
		for j < len(data) && data[j] >= 'a' && data[j] <= 'z' {
			j++
		}
		switch string(data[i:j]) {
		case "true", "false":
			return j, kindBool
		case "null":
			return j, kindNull
		}
		return -1, kindNull
	default:
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				if j == i {
					return -1, kindNumber
				}
				return j, kindNumber
			}
			j++
		}
		if j == i {
			return -1, kindNumber
		}
		return j, kindNumber
	}
}

// unquote returns the text of a raw JSON string value (with quotes).
func unquote(raw []byte, esc bool) string {
	if !esc {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return string(raw[1 : len(raw)-1])
	}
	return s
}

// unescapeKey decodes a key that has escapes.
func unescapeKey(key []byte) string {
	raw := make([]byte, 0, len(key)+2)
	raw = append(append(append(raw, '"'), key...), '"')
	return unquote(raw, true)
}

// splitRecord picks the record and entity out of a payload's members: an
// sftp/s3 import event {"file", "line", "entity": "...", "record": {...}}
// counts as its record under its entity; any other payload is itself the
// record (ok false).
func splitRecord(ms []member) (record []byte, entity string, ok bool) {
	var hasRec, hasEnt bool
	for _, m := range ms {
		switch {
		case m.keyEsc:
		case m.kind == kindObject && string(m.key) == "record":
			record, hasRec = m.val, true
		case m.kind == kindString && string(m.key) == "entity":
			entity, hasEnt = unquote(m.val, bytes.IndexByte(m.val, '\\') >= 0), true
		}
	}
	return record, entity, hasRec && hasEnt
}
