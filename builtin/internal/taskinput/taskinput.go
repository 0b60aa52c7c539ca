// Package taskinput reads the `with:` blocks of builtin tasks (decoded with
// json.Number) and words their errors the same way for every task, so an
// operator reads "with.contact.email: want a string, got an object" whichever
// task failed.
package taskinput

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/pluginsdk"
)

// CheckKeys fails on the first (sorted) key of m that is not allowed.
func CheckKeys(path string, m map[string]any, allowed []string) error {
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

// Kind names a decoded JSON value's type for error messages.
func Kind(v any) string {
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

// String reads a string, trimmed (a number is taken as its text); "" when
// absent or null.
func String(m map[string]any, key, path string) (string, error) {
	switch v := m[key].(type) {
	case nil:
		return "", nil
	case string:
		return strings.TrimSpace(v), nil
	case json.Number:
		return v.String(), nil
	default:
		return "", pluginsdk.Errorf("%s: want a string, got %s", path, Kind(v))
	}
}

// Required reads a string that must be present and not empty; hint ends the
// error message.
func Required(m map[string]any, key, path, hint string) (string, error) {
	s, err := String(m, key, path)
	if err == nil && s == "" {
		err = pluginsdk.Errorf("%s: required%s", path, hint)
	}
	return s, err
}

// ContactKeys are the keys of a `with.contact` block.
var ContactKeys = []string{"email", "phone", "extRef", "firstName", "lastName", "language", "unsubscribed"}

// Contact reads `with.contact`: the identity and fields of a contact. Only
// the keys in allowed (a subset of ContactKeys) are accepted.
func Contact(m map[string]any, allowed []string) (directory.ContactInput, error) {
	var in directory.ContactInput
	v, ok := m["contact"]
	if !ok || v == nil {
		return in, pluginsdk.Errorf("with.contact: required; want an object with any of %s", strings.Join(allowed, ", "))
	}
	c, ok := v.(map[string]any)
	if !ok {
		return in, pluginsdk.Errorf("with.contact: want an object, got %s", Kind(v))
	}
	if err := CheckKeys("with.contact", c, allowed); err != nil {
		return in, err
	}
	for _, f := range []struct {
		key string
		dst *string
	}{
		{"email", &in.Email}, {"phone", &in.Phone}, {"extRef", &in.ExtRef},
		{"firstName", &in.FirstName}, {"lastName", &in.LastName}, {"language", &in.Language},
	} {
		s, err := String(c, f.key, "with.contact."+f.key)
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
		case "true", "false":
			b := strings.EqualFold(strings.TrimSpace(u), "true")
			in.Unsubscribed = &b
		default:
			return in, pluginsdk.Errorf("with.contact.unsubscribed: want true or false, got %q", u)
		}
	default:
		return in, pluginsdk.Errorf("with.contact.unsubscribed: want true or false, got %s", Kind(u))
	}
	return in, nil
}
