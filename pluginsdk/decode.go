package pluginsdk

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DecodeConfig decodes a connection's `config:` block (raw, JSON) into v, a
// pointer to a struct, and returns the problems it found, each at its path
// (config.entities[2].glob): every key that is unknown (with a "did you mean"
// when one is close), of the wrong type or not a valid value. It does not
// stop at the first. A connector adds its own checks to the result and
// returns its Err from Configure.
//
// Keys match the fields' json tags exactly (the field name when untagged;
// "-" skips a field; embedded structs' fields count as the outer struct's).
// An absent or null key leaves the field as it was, so defaults set before
// the call survive. Numbers and booleans may also be strings holding one
// ("465", "false"), which is what a ${VAR} in YAML gives. Duration and
// time.Duration fields read as Duration does; a type with its own
// UnmarshalJSON decodes itself. A field tagged `refused:"why"` names a key
// that is never accepted (tls_insecure_skip_verify): it is not offered
// among the known keys, and setting it is the problem "not supported: why".
func DecodeConfig(raw json.RawMessage, v any) *Problems {
	p := &Problems{}
	p.Decode("config", raw, v)
	return p
}

// DecodeConfig is DecodeConfig(c.Config, v).Err(), for a connector with no
// checks of its own to add.
func (c *Context) DecodeConfig(v any) error {
	return DecodeConfig(c.Config, v).Err()
}

// Decode decodes raw into v as DecodeConfig does, adding problems under path.
func (p *Problems) Decode(path string, raw json.RawMessage, v any) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		p.At(path, "cannot decode into %T: want a non-nil pointer", v)
		return
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && !json.Valid(t) {
		p.At(path, "not valid JSON")
		return
	}
	p.decodeValue(path, raw, rv.Elem())
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	stdDurationType = reflect.TypeFor[time.Duration]()
	durationType    = reflect.TypeFor[Duration]()
)

// blankDuration reports an empty string for a duration field (what an unset
// ${VAR} gives): unset, like null, so a *Duration stays nil.
func blankDuration(raw []byte, t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return (t == durationType || t == stdDurationType) && raw[0] == '"' && scalar(raw) == ""
}

func (p *Problems) decodeValue(path string, raw []byte, v reflect.Value) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || blankDuration(raw, v.Type()) {
		return
	}
	if v.Type() == stdDurationType {
		d := Duration(v.Int())
		if err := d.UnmarshalJSON(raw); err != nil {
			p.At(path, "%v", err)
			return
		}
		v.SetInt(int64(d))
		return
	}
	if v.Kind() != reflect.Pointer && reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			p.At(path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		p.decodeValue(path, raw, v.Elem())
	case reflect.Struct:
		p.decodeObject(path, raw, v)
	case reflect.Map:
		p.decodeMap(path, raw, v)
	case reflect.Slice:
		p.decodeList(path, raw, v)
	case reflect.String:
		var s string
		if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
			p.At(path, "want a string, got %s", clip(raw))
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(scalar(raw))
		if err != nil || raw[0] != '"' && raw[0] != 't' && raw[0] != 'f' {
			p.At(path, "want true or false, got %s", clip(raw))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := p.whole(path, raw, float64(math.MinInt64))
		if !ok {
			return
		}
		if v.OverflowInt(n) {
			p.At(path, "%d is out of range", n)
			return
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := p.whole(path, raw, 0)
		if !ok {
			return
		}
		if v.OverflowUint(uint64(n)) {
			p.At(path, "%d is out of range", n)
			return
		}
		v.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(scalar(raw), v.Type().Bits())
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			p.At(path, "want a number, got %s", clip(raw))
			return
		}
		v.SetFloat(f)
	default:
		// interface{} and anything else: what encoding/json makes of it.
		if err := json.Unmarshal(raw, v.Addr().Interface()); err != nil {
			p.At(path, "%v", err)
		}
	}
}

// whole reads an integer of at least min, written as a JSON number or a
// string holding one; 1e3 is a whole number, 1.5 is not.
func (p *Problems) whole(path string, raw []byte, min float64) (int64, bool) {
	s := scalar(raw)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && float64(n) >= min {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !isRange(err):
		p.At(path, "want a whole number, got %s", clip(raw))
	case f != math.Trunc(f):
		p.At(path, "want a whole number, got %s", clip(raw))
	case f < min || f >= math.MaxInt64 || err != nil:
		p.At(path, "%s is out of range", clip(raw))
	default:
		return int64(f), true
	}
	return 0, false
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// decodeObject decodes a JSON object into the struct v, key by key in the
// document's order, so problems read top to bottom as the YAML does.
func (p *Problems) decodeObject(path string, raw []byte, v reflect.Value) {
	if raw[0] != '{' {
		p.At(path, "want an object (key: value), got %s", clip(raw))
		return
	}
	fields := fieldsOf(v.Type())
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token() // {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return // raw was checked to be valid JSON
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return
		}
		f, ok := fields.byName[key]
		switch {
		case !ok:
			p.unknown(path+"."+key, key, fields.names)
		case f.refused != "":
			if s := bytes.TrimSpace(val); string(s) != "null" {
				p.At(path+"."+key, "not supported: %s", f.refused)
			}
		default:
			p.decodeValue(path+"."+key, val, v.FieldByIndex(f.index))
		}
	}
}

func (p *Problems) decodeMap(path string, raw []byte, v reflect.Value) {
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil || v.Type().Key().Kind() != reflect.String {
		p.At(path, "want an object (key: value), got %s", clip(raw))
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(m)))
	}
	for _, k := range keys {
		e := reflect.New(v.Type().Elem()).Elem()
		p.decodeValue(path+"."+k, m[k], e)
		v.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), e)
	}
}

func (p *Problems) decodeList(path string, raw []byte, v reflect.Value) {
	var elems []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		p.At(path, "want a list, got %s", clip(raw))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(elems), len(elems))
	for i, e := range elems {
		p.decodeValue(path+"["+strconv.Itoa(i)+"]", e, s.Index(i))
	}
	v.Set(s)
}

// unknown reports a key the struct does not have: a close known key is
// offered ("did you mean"), else the list of known keys.
func (p *Problems) unknown(path, key string, known []string) {
	if m := closest(key, known); m != "" {
		p.At(path, "unknown key; did you mean %s?", m)
		return
	}
	p.At(path, "unknown key; want %s", strings.Join(known, ", "))
}

// closest is the known key a typo most likely meant: the same but for
// letter case or _ and -, one a prefix of the other, or within a small
// edit distance.
func closest(key string, known []string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "-", "_") }
	best, bestD := "", 3
	for _, k := range known {
		if norm(k) == norm(key) {
			return k
		}
		short, long := k, key
		if len(short) > len(long) {
			short, long = long, short
		}
		if len(short) >= 3 && strings.HasPrefix(norm(long), norm(short)) {
			return k
		}
		if d := editDistance(norm(key), norm(k)); d < bestD && d < len(k)/2+1 {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance, bounded: keys are short.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

type structFields struct {
	byName map[string]structField
	names  []string // in declaration order, for messages; not the refused
}

type structField struct {
	index   []int
	refused string // why the key is never accepted
}

// fieldsOf lists the keys of struct type t as encoding/json would name
// them; an embedded struct's fields are promoted unless the outer struct
// has a field of the same name.
func fieldsOf(t reflect.Type) structFields {
	fs := structFields{byName: map[string]structField{}}
	var embedded [][]int
	var walk func(t reflect.Type, index []int, depth int)
	walk = func(t reflect.Type, index []int, depth int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			idx := append(append([]int(nil), index...), i)
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				if depth == 0 {
					embedded = append(embedded, idx)
				}
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := fs.byName[name]; dup {
				continue
			}
			refused := f.Tag.Get("refused")
			fs.byName[name] = structField{index: idx, refused: refused}
			if refused == "" {
				fs.names = append(fs.names, name)
			}
		}
	}
	walk(t, nil, 0)
	for _, idx := range embedded {
		walk(t.FieldByIndex(idx).Type, idx, 1)
	}
	return fs
}

// scalar is the text of a JSON number, or of a string's content, trimmed.
func scalar(raw []byte) string {
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return strings.TrimSpace(s)
		}
	}
	return string(raw)
}

// clip shortens a value quoted in a message: the message is for finding
// the key, and a long value (a pasted certificate) would bury it.
func clip(raw []byte) string {
	const max = 40
	if len(raw) <= max {
		return string(raw)
	}
	return string(raw[:max]) + "…"
}
