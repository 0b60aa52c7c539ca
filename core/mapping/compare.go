package mapping

import (
	"fmt"
	"strings"
	"time"
)

// eqValue is the value of an eq, ne, in or contains condition, prepared once
// in every form a payload node may be compared with.
type eqValue struct {
	raw    any
	isNull bool
	// str is set when the value is a string: strings compare exactly.
	str   string
	isStr bool
	// num is set when the value is a number or a numeric string, so that 100
	// matches "100" and 100.0.
	num   float64
	isNum bool
	// b is set when the value is a boolean or the string "true"/"false", so
	// that true matches Salesforce's "true".
	b      bool
	isBool bool
	// complex values (objects, arrays) compare structurally.
	complex bool
}

func newEqValue(v any) (eqValue, error) {
	w := eqValue{raw: v}
	switch t := v.(type) {
	case nil:
		w.isNull = true
	case string:
		w.str, w.isStr = t, true
		if f, err := parseNumericString(t); err == nil {
			w.num, w.isNum = f, true
		}
		if b, ok := strictBool(t); ok {
			w.b, w.isBool = b, true
		}
	case bool:
		w.b, w.isBool = t, true
	case time.Time:
		w.str, w.isStr = t.Format(time.RFC3339Nano), true
	case map[string]any, []any:
		w.complex = true
	default:
		f, ok := numberValue(v)
		if !ok {
			return w, fmt.Errorf("cannot compare with %T", v)
		}
		w.num, w.isNum = f, true
	}
	return w, nil
}

// strictBool accepts only "true" and "false" (any case): a filter value such
// as "yes" or "1" is meant as text.
func strictBool(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// equal reports whether a payload node equals the value, with the coercions
// users expect: numbers numerically, booleans against "true"/"false",
// strings exactly.
func (w *eqValue) equal(node any) bool {
	switch n := node.(type) {
	case nil:
		return w.isNull
	case string:
		if w.isStr {
			return n == w.str
		}
		if w.isNum {
			f, err := parseNumericString(n)
			return err == nil && f == w.num
		}
		if w.isBool {
			b, ok := strictBool(strings.TrimSpace(n))
			return ok && b == w.b
		}
		return false
	case bool:
		return w.isBool && n == w.b
	case map[string]any, []any:
		return w.complex && deepEqual(node, w.raw)
	}
	if w.isNum {
		f, ok := numberValue(node)
		return ok && f == w.num
	}
	return false
}

// numberOrNumericString is the numeric value of a number or of a string
// holding one.
func numberOrNumericString(v any) (float64, bool) {
	if s, ok := v.(string); ok {
		f, err := parseNumericString(s)
		return f, err == nil
	}
	return numberValue(v)
}

// deepEqual compares decoded JSON with a configured value; numbers compare
// numerically because YAML gives ints where JSON gives json.Number.
func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !deepEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !deepEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	}
	fa, ok := numberValue(a)
	if !ok {
		return false
	}
	fb, ok := numberValue(b)
	return ok && fa == fb
}
