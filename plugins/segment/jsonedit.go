package main

import "github.com/junctionhub/junction/pluginsdk/fields"

// withoutMember returns the JSON object obj without its top-level members
// named key, leaving every other byte as it was. obj must be valid JSON
// (Extract has checked it); ok is false when obj does not look as
// expected, and then nothing was removed.
//
// It walks only the top level, skipping values without decoding them: the
// browser SDK puts the write key in every message, so this runs per event,
// and a full decode and re-encode costs tens of microseconds in a Go Wasm
// guest.
func withoutMember(obj []byte, key string) (out []byte, ok bool) {
	out = obj
	for {
		next, found, ok := removeFirst(out, key)
		if !ok {
			return obj, false
		}
		if !found {
			return out, true
		}
		out = next
	}
}

// removeFirst removes the first top-level member named key.
func removeFirst(obj []byte, key string) (out []byte, found, ok bool) {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false, false
	}
	prevEnd := -1 // just past the previous member's value
	i++
	for {
		i = skipWS(obj, i)
		if i >= len(obj) {
			return nil, false, false
		}
		if obj[i] == '}' {
			return obj, false, true
		}
		kStart := i
		kEnd := skipString(obj, i)
		if kEnd < 0 {
			return nil, false, false
		}
		i = skipWS(obj, kEnd)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false, false
		}
		vEnd := skipValue(obj, skipWS(obj, i+1))
		if vEnd < 0 {
			return nil, false, false
		}
		after := skipWS(obj, vEnd)
		if after >= len(obj) || obj[after] != ',' && obj[after] != '}' {
			return nil, false, false
		}
		if name, isStr := fields.String(obj[kStart:kEnd]); isStr && name == key {
			out = make([]byte, 0, len(obj))
			switch {
			case obj[after] == ',': // drop the member and the comma after it
				out = append(append(out, obj[:kStart]...), obj[skipWS(obj, after+1):]...)
			case prevEnd >= 0: // the last member: drop the comma before it
				out = append(append(out, obj[:prevEnd]...), obj[vEnd:]...)
			default: // the only member
				out = append(append(out, obj[:kStart]...), obj[vEnd:]...)
			}
			return out, true, true
		}
		if obj[after] == '}' {
			return obj, false, true
		}
		prevEnd, i = vEnd, after+1
	}
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the JSON string starting at i,
// or -1.
func skipString(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just past the JSON value starting at i, or
// -1. The document is valid, so brackets are only counted.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}
