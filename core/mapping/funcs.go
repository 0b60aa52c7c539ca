package mapping

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Names of the functions the compiler inserts into every template; users
// never write them (see rewrite in tree.go).
const (
	getFunc   = "_get"
	printFunc = "_print"
)

// templateFuncs is read-only after package initialisation; text/template
// copies it into each template.
var templateFuncs = template.FuncMap{
	getFunc:      get,
	printFunc:    toString,
	"default":    defaultValue,
	"lower":      func(v any) string { return strings.ToLower(toString(v)) },
	"upper":      func(v any) string { return strings.ToUpper(toString(v)) },
	"trim":       func(v any) string { return strings.TrimSpace(toString(v)) },
	"json":       jsonText,
	"join":       join,
	"now":        func() string { return time.Now().UTC().Format(time.RFC3339) },
	"formatTime": formatTime,
	"urlquery":   urlQuery,
	"sha256":     sha256Hex,
	"hmacSHA256": hmacSHA256Hex,
	"index":      index,
}

// get follows a chain of keys from recv. A missing key, a null, or a value
// that has no such key all give nil: in a template a missing value renders
// as nothing, the same as a JSONPath that matches nothing.
func get(recv any, keys ...string) (any, error) {
	cur := recv
	for _, k := range keys {
		var err error
		if cur, err = lookup(cur, k); err != nil {
			return nil, err
		}
		if cur == nil {
			return nil, nil
		}
	}
	return cur, nil
}

func lookup(cur any, key string) (any, error) {
	switch c := cur.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return c[key], nil
	case map[string]map[string]any:
		if v, ok := c[key]; ok {
			return v, nil
		}
		return nil, nil
	case map[string]string:
		if v, ok := c[key]; ok {
			return v, nil
		}
		return nil, nil
	case string, bool, float64, json.Number, []any:
		return nil, nil
	}
	return lookupReflect(reflect.ValueOf(cur), key)
}

// lookupReflect serves data a caller built from its own types (a run, a
// contact): maps with string keys, exported struct fields, and methods
// without arguments, as text/template would.
func lookupReflect(v reflect.Value, key string) (any, error) {
	if m := v.MethodByName(key); m.IsValid() {
		return callMethod(m, key)
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return nil, nil
		}
		e := v.MapIndex(reflect.ValueOf(key).Convert(v.Type().Key()))
		if !e.IsValid() {
			return nil, nil
		}
		return e.Interface(), nil
	case reflect.Struct:
		if m := v.MethodByName(key); m.IsValid() {
			return callMethod(m, key)
		}
		if f, ok := v.Type().FieldByName(key); ok && f.IsExported() {
			return v.FieldByIndex(f.Index).Interface(), nil
		}
	}
	return nil, nil
}

func callMethod(m reflect.Value, name string) (any, error) {
	t := m.Type()
	errType := reflect.TypeFor[error]()
	if t.NumIn() != 0 || t.NumOut() == 0 || t.NumOut() > 2 || (t.NumOut() == 2 && t.Out(1) != errType) {
		return nil, fmt.Errorf("method %s needs arguments or returns too much to be used as a value", name)
	}
	out := m.Call(nil)
	if len(out) == 2 && !out[1].IsNil() {
		return nil, fmt.Errorf("%s: %w", name, out[1].Interface().(error))
	}
	return out[0].Interface(), nil
}

// defaultValue returns v unless it is nil, an empty string or an empty list
// or object. Zero and false are real values and are kept.
func defaultValue(def, v any) any {
	switch x := v.(type) {
	case nil:
		return def
	case string:
		if x == "" {
			return def
		}
	case []any:
		if len(x) == 0 {
			return def
		}
	case map[string]any:
		if len(x) == 0 {
			return def
		}
	}
	return v
}

func jsonText(v any) (string, error) {
	b, err := marshalCompact(v)
	if err != nil {
		return "", err // encoding/json's errors already start with "json: "
	}
	return string(b), nil
}

func join(sep string, v any) (string, error) {
	switch l := v.(type) {
	case nil:
		return "", nil
	case []string:
		return strings.Join(l, sep), nil
	case []any:
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = toString(e)
		}
		return strings.Join(parts, sep), nil
	}
	return "", fmt.Errorf("join needs a list, not %s", describe(v))
}

// formatTime formats a timestamp with a Go layout: formatTime LAYOUT VALUE,
// or formatTime LAYOUT ZONE VALUE to convert to an IANA time zone first.
// VALUE is an RFC 3339 string, a date, or a Unix time in seconds (or in
// milliseconds when it is too large to be seconds).
func formatTime(layout string, args ...any) (string, error) {
	var zone string
	var v any
	switch len(args) {
	case 1:
		v = args[0]
	case 2:
		zone, v = toString(args[0]), args[1]
	default:
		return "", errors.New("formatTime takes a layout, an optional time zone and a time")
	}
	if v == nil || v == "" {
		return "", nil
	}
	t, ok := timeValue(v)
	if !ok {
		f, isNum := numberOrNumericString(v)
		if !isNum || math.IsInf(f, 0) || math.IsNaN(f) {
			return "", fmt.Errorf("formatTime: %s is not a time", describe(v))
		}
		// Seconds until the year 5138; beyond that it must be milliseconds.
		if math.Abs(f) < 1e11 {
			sec := math.Floor(f)
			t = time.Unix(int64(sec), int64((f-sec)*1e9))
		} else {
			t = time.UnixMilli(int64(f))
		}
		t = t.UTC()
	}
	if zone != "" {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return "", fmt.Errorf("formatTime: time zone %q: %w", zone, err)
		}
		t = t.In(loc)
	}
	return t.Format(layout), nil
}

func urlQuery(args ...any) string {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(toString(a))
	}
	return url.QueryEscape(b.String())
}

func sha256Hex(v any) string {
	sum := sha256.Sum256([]byte(toString(v)))
	return hex.EncodeToString(sum[:])
}

func hmacSHA256Hex(key, v any) string {
	m := hmac.New(sha256.New, []byte(toString(key)))
	m.Write([]byte(toString(v)))
	return hex.EncodeToString(m.Sum(nil))
}

// index looks up keys (object keys or array positions) one after the other.
// Like a field reference, a missing key or an index out of range gives nil.
func index(item any, keys ...any) (any, error) {
	cur := item
	for _, k := range keys {
		if cur == nil {
			return nil, nil
		}
		if l, ok := cur.([]any); ok {
			i, ok := intKey(k)
			if !ok {
				return nil, fmt.Errorf("index: an array needs a whole-number index, not %s", describe(k))
			}
			if i < 0 || i >= len(l) {
				return nil, nil
			}
			cur = l[i]
			continue
		}
		s, ok := k.(string)
		if !ok {
			if _, isNum := intKey(k); !isNum {
				return nil, fmt.Errorf("index: an object needs a string key, not %s", describe(k))
			}
			s = toString(k)
		}
		var err error
		if cur, err = lookup(cur, s); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

func intKey(k any) (int, bool) {
	switch n := k.(type) {
	case int:
		return n, true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	f, ok := numberValue(k)
	if !ok || f != math.Trunc(f) || math.Abs(f) > math.MaxInt32 {
		return 0, false
	}
	return int(f), true
}
