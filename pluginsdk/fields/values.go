package fields

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// String decodes a raw JSON string value. ok is false when raw is not a
// string (absent, a number, an object...).
func String(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), true
	}
	// Escapes are rare in field values; the slow path is fine.
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// Equal reports whether raw is the JSON string s, without allocating when raw
// holds no escapes.
func Equal(raw []byte, s string) bool {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner) == s
	}
	d, ok := String(raw)
	return ok && d == s
}

// Float decodes a raw JSON number; ok is false for anything else.
func Float(raw []byte) (float64, bool) {
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	return f, err == nil
}

// Bool decodes a raw JSON boolean; ok is false for anything else.
func Bool(raw []byte) (v, ok bool) {
	switch string(raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// IsNull reports whether raw is absent or the JSON null.
func IsNull(raw []byte) bool { return len(raw) == 0 || string(raw) == "null" }
