package directorytasks

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/builtin/internal/taskinput"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/pluginsdk"
)

// requirable are the contact fields `with.require` may list.
var requirable = []string{"email", "phone", "extRef", "firstName", "lastName", "language"}

// object decodes the rendered `with:` block, refusing keys the task does not
// know, so that a typo fails the run instead of being ignored.
func object(raw json.RawMessage, allowed ...string) (map[string]any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, pluginsdk.Errorf("with: missing; want %s", strings.Join(allowed, ", "))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, pluginsdk.Errorf("with: not valid JSON: %v", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, pluginsdk.Errorf("with: want an object with %s, got %s", strings.Join(allowed, ", "), taskinput.Kind(v))
	}
	if err := taskinput.CheckKeys("with", m, allowed); err != nil {
		return nil, err
	}
	return m, nil
}

// checkRequire enforces `with.require`: every listed contact field must be
// given and not empty (Qualtrics needs first name, last name and email to
// add a contact from Salesforce, for instance).
func checkRequire(m map[string]any, in directory.ContactInput) error {
	v, ok := m["require"]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return pluginsdk.Errorf("with.require: want a list of contact fields (%s), got %s", strings.Join(requirable, ", "), taskinput.Kind(v))
	}
	var names, missing []string
	for i, e := range list {
		f, ok := e.(string)
		if !ok || !slices.Contains(requirable, f) {
			return pluginsdk.Errorf("with.require[%d]: want one of %s, got %v", i, strings.Join(requirable, ", "), e)
		}
		names = append(names, f)
		if contactField(in, f) == "" {
			missing = append(missing, f)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return pluginsdk.Errorf("contact %s is required but missing or empty (require: %s)", missing[0], strings.Join(names, ", "))
	}
	return pluginsdk.Errorf("contact %s are required but missing or empty (require: %s)", strings.Join(missing, ", "), strings.Join(names, ", "))
}

func contactField(in directory.ContactInput, f string) string {
	return map[string]string{
		"email": in.Email, "phone": in.Phone, "extRef": in.ExtRef,
		"firstName": in.FirstName, "lastName": in.LastName, "language": in.Language,
	}[f]
}

// scalars reads an object of string, number and boolean values (embedded
// data, transaction data). Null values are kept out: the directory skips
// them.
func scalars(m map[string]any, key string) (map[string]any, error) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, pluginsdk.Errorf("with.%s: want an object of string, number or boolean values, got %s", key, taskinput.Kind(v))
	}
	for k, e := range obj {
		switch e.(type) {
		case nil, string, json.Number, bool:
		default:
			return nil, pluginsdk.Errorf("with.%s.%s: want a string, number or boolean, got %s", key, k, taskinput.Kind(e))
		}
	}
	return obj, nil
}

// naiveLayouts are dates without a zone: they are in the organisation's
// time zone.
var naiveLayouts = []string{"2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"}

// maxUnix is 9999-12-31T23:59:59Z, the last time a transaction may have.
const maxUnix = 253402300799

// date reads `with.date`: an RFC 3339 time, a date or time without a zone
// (taken in loc), or a Unix time in seconds (milliseconds when it is too
// big to be seconds). Zero when absent or empty.
func date(m map[string]any, loc *time.Location) (time.Time, error) {
	switch v := m["date"].(type) {
	case nil:
		return time.Time{}, nil
	case json.Number:
		f, err := strconv.ParseFloat(v.String(), 64)
		if err != nil || math.IsInf(f, 0) || f < 0 {
			return time.Time{}, pluginsdk.Errorf("with.date: bad Unix time %s", v)
		}
		if f >= 1e11 { // later than year 5138 in seconds: milliseconds
			f /= 1000
		}
		if f > maxUnix {
			return time.Time{}, pluginsdk.Errorf("with.date: Unix time %s is after the year 9999", v)
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	case string:
		s := strings.TrimSpace(v)
		if s == "" {
			return time.Time{}, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t, nil
		}
		for _, l := range naiveLayouts {
			if t, err := time.ParseInLocation(l, s, loc); err == nil {
				return t, nil
			}
		}
		return time.Time{}, pluginsdk.Errorf("with.date: %q is not a time; want RFC 3339 (2026-03-01T09:30:00Z), 2026-03-01 09:30:00, 2026-03-01 or Unix seconds", v)
	default:
		return time.Time{}, pluginsdk.Errorf("with.date: want a time string or Unix seconds, got %s", taskinput.Kind(v))
	}
}
