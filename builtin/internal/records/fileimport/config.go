package fileimport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/junctionhub/junction/builtin/internal/records"
)

// EntityConfig is the part of an `entities:` item both file connectors
// share.
//
//	name:      the entity (event type); lowercase letters, digits, - or _
//	glob:      which file names to import, path.Match syntax (default "*")
//	format:    csv (default), ndjson or json
//	delimiter: the CSV field delimiter, one character (default ",")
type EntityConfig struct {
	Name      string `json:"name"`
	Glob      string `json:"glob"`
	Format    string `json:"format"`
	Delimiter string `json:"delimiter"`
}

// Check validates the shared keys of entities[i] and returns how to read
// its files, adding a message per problem to problems.
func (ec *EntityConfig) Check(i int, seen map[string]bool, problems *[]string) Entity {
	where := fmt.Sprintf("config.entities[%d]", i)
	e := Entity{Name: ec.Name}
	switch {
	case ec.Name == "":
		*problems = append(*problems, where+".name is required")
	case !validName(ec.Name):
		*problems = append(*problems, fmt.Sprintf("%s.name %q: use lowercase letters, digits, - or _", where, ec.Name))
	case seen[ec.Name]:
		*problems = append(*problems, fmt.Sprintf("%s.name %q is used twice", where, ec.Name))
	}
	seen[ec.Name] = true
	if ec.Glob == "" {
		ec.Glob = "*"
	}
	if _, err := path.Match(ec.Glob, ""); err != nil || strings.Contains(ec.Glob, "/") {
		*problems = append(*problems, fmt.Sprintf("%s.glob %q: want a file name pattern such as *.csv", where, ec.Glob))
	}
	if ec.Format == "" {
		ec.Format = string(records.CSV)
	}
	f, err := records.ParseFormat(ec.Format)
	if err != nil {
		*problems = append(*problems, fmt.Sprintf("%s.format: %v", where, err))
	}
	e.Read.Format = f
	if ec.Delimiter != "" {
		r, size := utf8.DecodeRuneInString(ec.Delimiter)
		if size != len(ec.Delimiter) {
			*problems = append(*problems, fmt.Sprintf("%s.delimiter %q: want one character", where, ec.Delimiter))
		} else if f != records.CSV {
			*problems = append(*problems, fmt.Sprintf("%s.delimiter: only csv files have one", where))
		}
		e.Read.Comma = r
	}
	if _, err := records.NewReader(strings.NewReader(""), e.Read, records.Position{}); err != nil && f != "" {
		*problems = append(*problems, fmt.Sprintf("%s.delimiter: %v", where, err))
	}
	return e
}

// Matches reports whether a file name (no directory) matches the glob.
func (ec *EntityConfig) Matches(name string) bool {
	ok, _ := path.Match(ec.Glob, name)
	return ok
}

// validName: a lowercase letter, then lowercase letters, digits, - or _.
func validName(s string) bool {
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '-' || c == '_')
		if !ok {
			return false
		}
	}
	return s != ""
}

// DecodeStrict decodes a connection's config into v, refusing unknown keys
// (a misspelt key would otherwise be ignored silently).
func DecodeStrict(raw json.RawMessage, v any) error {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return nil
}

// ParseDuration reads the duration at config key `key`: a Go duration
// string ("30s") or a number of seconds, the two ways a YAML author writes
// one. It returns def when raw is empty and adds a message naming the key
// to problems when raw is not a duration of at least 0.
func ParseDuration(key string, raw json.RawMessage, def time.Duration, problems *[]string) time.Duration {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return def
	}
	var d time.Duration
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			*problems = append(*problems, fmt.Sprintf("config.%s: want a duration such as 30s, got %q", key, s))
			return def
		}
		d = v
	} else {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			*problems = append(*problems, fmt.Sprintf("config.%s: want a duration such as 30s, got %s", key, b))
			return def
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d < 0 {
		*problems = append(*problems, fmt.Sprintf("config.%s: %s is negative", key, d))
		return def
	}
	return d
}
