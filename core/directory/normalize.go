package directory

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what one contact may hold. They keep keys well inside the
// store's key limit and a record small enough to rewrite on every upsert.
const (
	maxFieldLen    = 512
	maxKeyLen      = 200
	maxValueLen    = 32 << 10
	maxEmbeddedLen = 500
)

// normalize returns a field's value as dedup rules and lookups compare it.
func normalize(field, v string) string {
	v = strings.TrimSpace(v)
	if field == "phone" {
		return normalizePhone(v)
	}
	return strings.ToLower(v)
}

// normalizePhone keeps the digits and a leading "+": "+1 (555) 010-0200"
// and "+15550100200" are the same number. Without country information
// "555-010-0200" stays a different one.
func normalizePhone(v string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(v) {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	if b.Len() == 1 { // "+" alone
		return ""
	}
	return b.String()
}

// field returns a contact's value of a dedup or lookup field.
func (c *Contact) field(name string) string {
	switch name {
	case "email":
		return c.Email
	case "phone":
		return c.Phone
	case "extRef":
		return c.ExtRef
	case "firstName":
		return c.FirstName
	case "lastName":
		return c.LastName
	}
	return ""
}

// clean trims the input's fields and checks them; it returns a copy with the
// embedded values converted to their stored form.
func (in ContactInput) clean() (ContactInput, error) {
	out := ContactInput{
		FirstName: strings.TrimSpace(in.FirstName), LastName: strings.TrimSpace(in.LastName),
		Email: strings.TrimSpace(in.Email), Phone: strings.TrimSpace(in.Phone),
		ExtRef: strings.TrimSpace(in.ExtRef), Language: strings.TrimSpace(in.Language),
		Unsubscribed: in.Unsubscribed,
	}
	for _, f := range []struct{ name, v string }{
		{"firstName", out.FirstName}, {"lastName", out.LastName}, {"email", out.Email},
		{"phone", out.Phone}, {"extRef", out.ExtRef}, {"language", out.Language},
	} {
		if len(f.v) > maxFieldLen {
			return out, inputErrorf("contact %s: %d bytes, longer than %d", f.name, len(f.v), maxFieldLen)
		}
		if !utf8.ValidString(f.v) {
			return out, inputErrorf("contact %s: not valid UTF-8", f.name)
		}
	}
	if out.Email != "" && !looksLikeEmail(out.Email) {
		return out, inputErrorf("contact email %q is not an email address", out.Email)
	}
	if out.Phone != "" && strings.TrimPrefix(normalizePhone(out.Phone), "+") == "" {
		return out, inputErrorf("contact phone %q has no digits", out.Phone)
	}
	emb, err := cleanScalars("embedded", in.Embedded)
	if err != nil {
		return out, err
	}
	if len(emb) > maxEmbeddedLen {
		return out, inputErrorf("embedded: %d keys, more than %d", len(emb), maxEmbeddedLen)
	}
	out.Embedded = emb
	return out, nil
}

// looksLikeEmail is deliberately loose (one @, something either side, no
// spaces): the directory matches addresses, it does not deliver to them.
func looksLikeEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	return at > 0 && at == strings.LastIndexByte(s, '@') && at < len(s)-1 && !strings.ContainsAny(s, " \t\r\n")
}

// cleanScalars checks a key → string/number/boolean map and converts numbers
// to json.Number; nil values are dropped. what names the map in errors.
func cleanScalars(what string, m map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if k == "" || len(k) > maxKeyLen {
			return nil, inputErrorf("%s: key %q: want 1 to %d bytes", what, k, maxKeyLen)
		}
		sv, err := scalar(v)
		if err != nil {
			return nil, inputErrorf("%s.%s: %v", what, k, err)
		}
		if sv != nil {
			out[k] = sv
		}
	}
	return out, nil
}

func scalar(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if len(x) > maxValueLen {
			return nil, fmt.Errorf("%d bytes, longer than %d", len(x), maxValueLen)
		}
		return x, nil
	case bool:
		return x, nil
	case json.Number:
		if _, err := strconv.ParseFloat(string(x), 64); err != nil {
			return nil, fmt.Errorf("bad number %q", string(x))
		}
		return x, nil
	case float64:
		return floatNumber(x)
	case float32:
		return floatNumber(float64(x))
	case int:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case int64:
		return json.Number(strconv.FormatInt(x, 10)), nil
	case int32:
		return json.Number(strconv.FormatInt(int64(x), 10)), nil
	case uint64:
		return json.Number(strconv.FormatUint(x, 10)), nil
	case uint:
		return json.Number(strconv.FormatUint(uint64(x), 10)), nil
	case map[string]any:
		return nil, fmt.Errorf("want a string, number or boolean, got an object")
	case []any:
		return nil, fmt.Errorf("want a string, number or boolean, got a list")
	}
	return nil, fmt.Errorf("want a string, number or boolean, got %T", v)
}

func floatNumber(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("number %v is not finite", f)
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// claim is one dedup rule's key for a contact's values.
type claim struct {
	rule string // "email", "firstName+lastName"
	key  string
}

// claims returns the dedup keys of every rule the contact satisfies, in rule
// order.
func (d *dirConf) claims(c *Contact) []claim {
	var out []claim
rules:
	for _, rule := range d.rules {
		parts := make([]string, len(rule))
		for i, f := range rule {
			v := normalize(f, c.field(f))
			if v == "" {
				continue rules
			}
			parts[i] = url.PathEscape(v)
		}
		name := strings.Join(rule, "+")
		out = append(out, claim{rule: name, key: d.key("u/" + name + "/" + strings.Join(parts, "/"))})
	}
	return out
}

// ruleNames lists the rules as they are written in config.
func (d *dirConf) ruleNames() string {
	names := make([]string, len(d.rules))
	for i, r := range d.rules {
		names[i] = strings.Join(r, "+")
	}
	return strings.Join(names, ", ")
}

// lookupFields are indexed for Find whatever the dedup rules are.
var lookupFields = []string{"email", "phone", "extRef"}

// lookupKeys returns the Find index entries of a contact.
func (d *dirConf) lookupKeys(c *Contact) map[string]bool {
	out := map[string]bool{}
	for _, f := range lookupFields {
		if v := normalize(f, c.field(f)); v != "" {
			out[lookupPrefix(d, f, v)+c.ID] = true
		}
	}
	return out
}

func lookupPrefix(d *dirConf, field, norm string) string {
	return d.key("by/" + field + "/" + url.PathEscape(norm) + "/")
}
