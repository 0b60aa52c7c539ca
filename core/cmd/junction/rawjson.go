package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The API returns stored payloads as they were received, and ingest accepts
// nesting as deep as encoding/json does (10,000 levels). Wrapped in the
// API's envelope ({"runs":[{"input":…}]}) such a payload is deeper than
// encoding/json will decode or indent, even into a json.RawMessage, since it
// checks the whole document first. So the CLI splits the envelope itself,
// with the scanner below that counts brackets instead of recursing, decodes
// only the shallow fields it shows, and prints payloads as received.

// rawMember returns the raw value of key in the JSON object data.
func rawMember(data []byte, key string) ([]byte, bool, error) {
	ms, err := rawMembers(data)
	if err != nil {
		return nil, false, err
	}
	for _, m := range ms {
		if m.key == key {
			return m.value, true, nil
		}
	}
	return nil, false, nil
}

type member struct {
	key   string
	value []byte
}

// rawMembers splits a JSON object into its members, values left raw.
func rawMembers(data []byte) ([]member, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, errors.New("want a JSON object")
	}
	var out []member
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return out, nil
	}
	for {
		end, err := skipValue(data, i)
		if err != nil || data[i] != '"' {
			return nil, fmt.Errorf("object key at offset %d: want a string", i)
		}
		var key string
		if err := json.Unmarshal(data[i:end], &key); err != nil {
			return nil, fmt.Errorf("object key at offset %d: %w", i, err)
		}
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return nil, fmt.Errorf("offset %d: want ':'", i)
		}
		i = skipSpace(data, i+1)
		if end, err = skipValue(data, i); err != nil {
			return nil, err
		}
		out = append(out, member{key: key, value: data[i:end]})
		i = skipSpace(data, end)
		if i >= len(data) {
			return nil, errors.New("unexpected end of JSON object")
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case '}':
			return out, nil
		default:
			return nil, fmt.Errorf("offset %d: want ',' or '}'", i)
		}
	}
}

// rawElements splits a JSON array into its elements, left raw.
func rawElements(data []byte) ([][]byte, error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return nil, errors.New("want a JSON array")
	}
	var out [][]byte
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return out, nil
	}
	for {
		end, err := skipValue(data, i)
		if err != nil {
			return nil, err
		}
		out = append(out, data[i:end])
		i = skipSpace(data, end)
		if i >= len(data) {
			return nil, errors.New("unexpected end of JSON array")
		}
		switch data[i] {
		case ',':
			i = skipSpace(data, i+1)
		case ']':
			return out, nil
		default:
			return nil, fmt.Errorf("offset %d: want ',' or ']'", i)
		}
	}
}

// decodeShallow decodes the members of object data named in keys into v,
// leaving out every other member (payloads), so that their depth does not
// matter.
func decodeShallow(data []byte, v any, keys ...string) error {
	ms, err := rawMembers(data)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for _, m := range ms {
		for _, k := range keys {
			if m.key != k {
				continue
			}
			if buf.Len() > 1 {
				buf.WriteByte(',')
			}
			kb, _ := json.Marshal(m.key)
			buf.Write(kb)
			buf.WriteByte(':')
			buf.Write(m.value)
		}
	}
	buf.WriteByte('}')
	return json.Unmarshal(buf.Bytes(), v)
}

// skipValue returns the offset just past the JSON value starting at i. It
// checks structure only as far as finding the end: the server produced the
// document, and the parts the CLI reads are decoded by encoding/json.
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errors.New("unexpected end of JSON")
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(data); j++ {
			switch data[j] {
			case '"':
				end, err := skipString(data, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unexpected end of JSON")
	}
	j := i
	for j < len(data) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(data[j])) {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("offset %d: unexpected %q", i, data[i])
	}
	return j, nil
}

func skipString(data []byte, i int) (int, error) {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated JSON string")
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n') {
		i++
	}
	return i
}

// printRawJSON prints a JSON document indented when encoding/json can
// indent it, and as received when it is too deep to.
func printRawJSON(w io.Writer, data []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err == nil {
		buf.WriteByte('\n')
		_, err = w.Write(buf.Bytes())
		return err
	}
	if _, err := w.Write(bytes.TrimSpace(data)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
