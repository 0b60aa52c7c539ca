package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is the declared type of a field. The zero value, TypeAny, keeps the
// extracted value as it is in the payload.
type Type string

// The field types a workflow may declare.
const (
	TypeString  Type = "string"
	TypeNumber  Type = "number"
	TypeBoolean Type = "boolean"
	TypeAny     Type = ""
)

// ParseType checks a `type:` value from configuration.
func ParseType(s string) (Type, error) {
	switch t := Type(s); t {
	case TypeAny, TypeString, TypeNumber, TypeBoolean:
		return t, nil
	}
	return "", fmt.Errorf("unknown type %q; use string, number or boolean (or leave it out to keep the value as is)", s)
}

// ErrRequired marks a required field whose path matched nothing or null.
var ErrRequired = errors.New("the field is required")

// convert turns v (a non-nil value) into type t. path is only used in the
// error text, so that a user sees which part of the payload was wrong.
func convert(t Type, v any, path string) (any, error) {
	switch t {
	case TypeNumber:
		return toNumber(v, path)
	case TypeBoolean:
		return toBoolean(v, path)
	case TypeString:
		return toString(v), nil
	}
	return v, nil
}

func toNumber(v any, path string) (float64, error) {
	switch n := v.(type) {
	case string:
		f, err := parseNumericString(n)
		if err != nil {
			return 0, fmt.Errorf("%s is %s, %w", path, describe(v), err)
		}
		return f, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, fmt.Errorf("%s is %s, out of range for a number", path, n)
		}
		return f, nil
	}
	if f, ok := numberValue(v); ok {
		return f, nil
	}
	return 0, fmt.Errorf("%s is %s, not a number", path, describe(v))
}

var errNotNumber = errors.New("not a number")

// parseNumericString accepts what a person would call a number in a string:
// optional surrounding spaces, an optional sign, digits with an optional
// fraction and exponent. It rejects what strconv.ParseFloat would also take
// but nobody means ("NaN", "Inf", "0x1p3", "1_000").
func parseNumericString(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if !isDecimal(s) {
		return 0, errNotNumber
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("out of range for a number")
	}
	return f, nil
}

func isDecimal(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// numberValue reports the value of any Go or JSON number.
func numberValue(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int8:
		return float64(n), true
	case int16:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint:
		return float64(n), true
	case uint8:
		return float64(n), true
	case uint16:
		return float64(n), true
	case uint32:
		return float64(n), true
	case uint64:
		return float64(n), true
	}
	return 0, false
}

func toBoolean(v any, path string) (bool, error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if r, ok := parseBoolString(b); ok {
			return r, nil
		}
	default:
		// 1 and 0 are how many systems spell a flag in JSON.
		if f, ok := numberValue(v); ok && (f == 0 || f == 1) {
			return f == 1, nil
		}
	}
	return false, fmt.Errorf("%s is %s, not a boolean", path, describe(v))
}

// parseBoolString accepts the spellings of a flag that upstream systems send
// as strings: Salesforce sends "true", forms send "yes", CSV files send "1".
func parseBoolString(s string) (bool, bool) {
	s = strings.TrimSpace(s)
	switch {
	case strings.EqualFold(s, "true"), strings.EqualFold(s, "yes"), s == "1":
		return true, true
	case strings.EqualFold(s, "false"), strings.EqualFold(s, "no"), s == "0":
		return false, true
	}
	return false, false
}

// toString renders any value as text: strings as they are, numbers without
// exponent noise, booleans as true/false, null as "", objects and arrays as
// compact JSON.
func toString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(s)
	case json.Number:
		return formatJSONNumber(s)
	case float64:
		return formatFloat(s)
	case float32:
		return formatFloat(float64(s))
	case int:
		return strconv.Itoa(s)
	case int64:
		return strconv.FormatInt(s, 10)
	case uint64:
		return strconv.FormatUint(s, 10)
	case time.Time:
		return s.Format(time.RFC3339Nano)
	case fmt.Stringer:
		return s.String()
	}
	if f, ok := numberValue(v); ok {
		return formatFloat(f)
	}
	if b, err := marshalCompact(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

// formatJSONNumber keeps integers exactly as sent (IDs longer than a float64
// can hold stay intact) and writes everything else like formatFloat.
func formatJSONNumber(n json.Number) string {
	s := string(n)
	plainInt := len(s) > 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && !(i == 0 && c == '-') {
			plainInt = false
			break
		}
	}
	if plainInt {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return formatFloat(f)
}

// formatFloat writes f in plain decimal notation, like JavaScript does, up to
// 1e21; beyond that an exponent is the only readable form.
func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	if a := math.Abs(f); a >= 1e21 {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// marshalCompact is json.Marshal without HTML escaping, so that "<" and "&"
// in a payload reach the other side as they were.
func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// describe shows a value in an error message: short, and never a whole
// object (payloads carry personal data that does not belong in run errors).
func describe(v any) string {
	switch t := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	case string:
		b, _ := marshalCompact(truncate(t, 60))
		return string(b)
	}
	return toString(v)
}

func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
