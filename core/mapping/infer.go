package mapping

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// InferredField is one field found in a sample payload.
type InferredField struct {
	// Name is a lower-camel name for the field: the last key of the path,
	// prefixed with its parents' keys when that alone would collide.
	Name string
	// Path is an RFC 9535 JSONPath to the value.
	Path string
	// Type is the type the sample suggests.
	Type Type
	// Example is the value in the sample.
	Example any
}

// Infer proposes a field for every scalar in a sample payload. Objects are
// walked recursively; for an array, only its first element is walked (path
// [0]), since the elements of one array usually share a shape. A null gives a
// string field (the sample does not say more); the strings "true" and
// "false" give a boolean field, since that is how Salesforce sends flags.
// The result is sorted by path.
func Infer(payload []byte) ([]InferredField, error) {
	doc, err := Decode(payload)
	if err != nil {
		return nil, err
	}
	var fields []InferredField
	var keys [][]string
	var walk func(v any, path string, names []string)
	walk = func(v any, path string, names []string) {
		switch t := v.(type) {
		case map[string]any:
			for k, e := range t {
				walk(e, path+pathSegment(k), append(names[:len(names):len(names)], k))
			}
			return
		case []any:
			if len(t) > 0 {
				walk(t[0], path+"[0]", names)
			}
			return
		}
		fields = append(fields, InferredField{Path: path, Type: inferType(v), Example: v})
		keys = append(keys, names)
	}
	walk(doc, "$", nil)
	nameFields(fields, keys)
	sort.Slice(fields, func(i, j int) bool { return fields[i].Path < fields[j].Path })
	return fields, nil
}

func inferType(v any) Type {
	switch t := v.(type) {
	case json.Number:
		return TypeNumber
	case bool:
		return TypeBoolean
	case string:
		if t == "true" || t == "false" {
			return TypeBoolean
		}
	}
	return TypeString
}

// pathSegment writes one key as a JSONPath segment: dot notation when the
// key is a plain identifier, a double-quoted bracket otherwise.
func pathSegment(k string) string {
	if isShorthandName(k) {
		return "." + k
	}
	// RFC 9535 string literals use JSON's escapes.
	b, _ := marshalCompact(k)
	return "[" + string(b) + "]"
}

func isShorthandName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// nameFields gives each field the shortest readable name that is unique:
// the last key; for fields whose names collide, one more parent key each
// round; a number suffix as the last resort.
func nameFields(fields []InferredField, keys [][]string) {
	depth := make([]int, len(fields))
	for i := range depth {
		depth[i] = 1
	}
	for {
		byName := map[string][]int{}
		for i := range fields {
			fields[i].Name = camelName(keys[i], depth[i])
			byName[fields[i].Name] = append(byName[fields[i].Name], i)
		}
		grew := false
		for _, idx := range byName {
			if len(idx) < 2 {
				continue
			}
			for _, i := range idx {
				if depth[i] < len(keys[i]) {
					depth[i]++
					grew = true
				}
			}
		}
		if !grew {
			break
		}
	}
	// Keys that differ only in punctuation ("user_id", "userId") still collide.
	seen := map[string]int{}
	order := make([]int, len(fields))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return fields[order[a]].Path < fields[order[b]].Path })
	for _, i := range order {
		name := fields[i].Name
		seen[name]++
		if n := seen[name]; n > 1 {
			for {
				candidate := name + strconv.Itoa(n)
				if _, taken := seen[candidate]; !taken {
					fields[i].Name = candidate
					seen[candidate] = 1
					break
				}
				n++
			}
		}
	}
}

// camelName joins the last depth keys in lower camel case, keeping only
// letters and digits so that the name works in {{ .fields.NAME }}.
func camelName(keys []string, depth int) string {
	if len(keys) == 0 {
		return "value"
	}
	if depth > len(keys) {
		depth = len(keys)
	}
	var words []string
	for _, k := range keys[len(keys)-depth:] {
		// "it's" reads as one word, not "itS".
		k = strings.NewReplacer("'", "", "’", "").Replace(k)
		words = append(words, strings.FieldsFunc(k, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		})...)
	}
	var b strings.Builder
	for i, w := range words {
		switch {
		case i == 0 && isUpper(w):
			b.WriteString(strings.ToLower(w))
		case i == 0:
			r, n := utf8.DecodeRuneInString(w)
			b.WriteRune(unicode.ToLower(r))
			b.WriteString(w[n:])
		default:
			r, n := utf8.DecodeRuneInString(w)
			b.WriteRune(unicode.ToUpper(r))
			b.WriteString(w[n:])
		}
	}
	name := b.String()
	if name == "" {
		return "field"
	}
	if r, _ := utf8.DecodeRuneInString(name); unicode.IsDigit(r) {
		name = "f" + name
	}
	// YAML 1.1 readers take these as booleans or null, even as keys.
	switch strings.ToLower(name) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null":
		name += "Field"
	}
	return name
}

func isUpper(w string) bool {
	for _, r := range w {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// FormatFields writes fields as a YAML `fields:` block ready to paste into a
// workflow, one flow mapping per line with the sample value as a comment.
func FormatFields(fields []InferredField) string {
	sorted := append([]InferredField(nil), fields...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	lines := make([]string, len(sorted))
	width := 0
	for i, f := range sorted {
		typ := f.Type
		if typ == TypeAny {
			lines[i] = fmt.Sprintf("  %s: {path: %s}", f.Name, yamlScalar(f.Path))
		} else {
			lines[i] = fmt.Sprintf("  %s: {path: %s, type: %s}", f.Name, yamlScalar(f.Path), typ)
		}
		width = max(width, utf8.RuneCountInString(lines[i]))
	}
	var b strings.Builder
	b.WriteString("fields:\n")
	for i, f := range sorted {
		b.WriteString(lines[i])
		b.WriteString(strings.Repeat(" ", width-utf8.RuneCountInString(lines[i])))
		b.WriteString("  # e.g. ")
		b.WriteString(exampleText(f.Example))
		b.WriteByte('\n')
	}
	return b.String()
}

// exampleText is a short, one-line, printable rendering of a sample value.
func exampleText(v any) string {
	s := "null"
	if v != nil {
		b, err := marshalCompact(v)
		if err != nil {
			return "?"
		}
		s = string(b)
	}
	s = truncate(s, 50)
	return strings.Map(func(r rune) rune {
		if !yamlPrintable(r) {
			return '?'
		}
		return r
	}, s)
}

// yamlScalar writes s as a YAML scalar that is safe inside a flow mapping:
// plain when it only holds characters YAML gives no meaning to there,
// single-quoted otherwise, double-quoted with escapes when it holds
// characters YAML cannot carry as they are.
func yamlScalar(s string) string {
	plain := s != ""
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '$' || c == '.' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	printable := true
	for _, r := range s {
		if !yamlPrintable(r) {
			printable = false
			break
		}
	}
	if printable {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case yamlPrintable(r):
			b.WriteRune(r)
		case r <= 0xFFFF:
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			fmt.Fprintf(&b, "\\U%08X", r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlPrintable is YAML 1.2's c-printable set, minus the characters some
// readers take as line breaks (NEL, LS, PS) and the byte-order mark.
func yamlPrintable(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0x7E:
		return true
	case r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD:
		return r != 0x2028 && r != 0x2029 && r != 0xFEFF
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}
