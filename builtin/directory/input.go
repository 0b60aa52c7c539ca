package directory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	coredir "github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/pluginsdk"
)

// contactKeys are the keys of `with.contact`.
var contactKeys = []string{"email", "phone", "extRef", "firstName", "lastName", "language", "unsubscribed"}

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
		return nil, pluginsdk.Errorf("with: want an object with %s, got %s", strings.Join(allowed, ", "), kind(v))
	}
	if err := checkKeys("with", m, allowed); err != nil {
		return nil, err
	}
	return m, nil
}

func checkKeys(path string, m map[string]any, allowed []string) error {
	var unknown []string
	for k := range m {
		if !slices.Contains(allowed, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return pluginsdk.Errorf("%s: unknown key %q; want %s", path, unknown[0], strings.Join(allowed, ", "))
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// str reads a string (a number is taken as its text); "" when absent or null.
func str(m map[string]any, key, path string) (string, error) {
	switch v := m[key].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		return v.String(), nil
	default:
		return "", pluginsdk.Errorf("%s: want a string, got %s", path, kind(v))
	}
}

// required reads a string that must be present and not empty.
func required(m map[string]any, key, path, hint string) (string, error) {
	s, err := str(m, key, path)
	if err == nil && s == "" {
		err = pluginsdk.Errorf("%s: required%s", path, hint)
	}
	return s, err
}

// contact reads `with.contact`.
func contact(m map[string]any) (coredir.ContactInput, error) {
	var in coredir.ContactInput
	v, ok := m["contact"]
	if !ok || v == nil {
		return in, pluginsdk.Errorf("with.contact: required; want an object with any of %s", strings.Join(contactKeys, ", "))
	}
	c, ok := v.(map[string]any)
	if !ok {
		return in, pluginsdk.Errorf("with.contact: want an object, got %s", kind(v))
	}
	if err := checkKeys("with.contact", c, contactKeys); err != nil {
		return in, err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"email", &in.Email}, {"phone", &in.Phone}, {"extRef", &in.ExtRef},
		{"firstName", &in.FirstName}, {"lastName", &in.LastName}, {"language", &in.Language},
	} {
		s, err := str(c, f.key, "with.contact."+f.key)
		if err != nil {
			return in, err
		}
		*f.dst = s
	}
	switch u := c["unsubscribed"].(type) {
	case nil:
	case bool:
		in.Unsubscribed = &u
	case string:
		switch strings.ToLower(strings.TrimSpace(u)) {
		case "":
		case "true":
			in.Unsubscribed = ptr(true)
		case "false":
			in.Unsubscribed = ptr(false)
		default:
			return in, pluginsdk.Errorf("with.contact.unsubscribed: want true or false, got %q", u)
		}
	default:
		return in, pluginsdk.Errorf("with.contact.unsubscribed: want true or false, got %s", kind(u))
	}
	return in, nil
}

func ptr[T any](v T) *T { return &v }

// checkRequire enforces `with.require`: every listed contact field must be
// given and not empty (Qualtrics needs first name, last name and email to
// add a contact from Salesforce, for instance).
func checkRequire(m map[string]any, in coredir.ContactInput) error {
	v, ok := m["require"]
	if !ok || v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return pluginsdk.Errorf("with.require: want a list of contact fields (%s), got %s", strings.Join(requirable, ", "), kind(v))
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

func contactField(in coredir.ContactInput, f string) string {
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
		return nil, pluginsdk.Errorf("with.%s: want an object of string, number or boolean values, got %s", key, kind(v))
	}
	for k, e := range obj {
		switch e.(type) {
		case nil, string, json.Number, bool:
		default:
			return nil, pluginsdk.Errorf("with.%s.%s: want a string, number or boolean, got %s", key, k, kind(e))
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
		return time.Time{}, pluginsdk.Errorf("with.date: want a time string or Unix seconds, got %s", kind(v))
	}
}
