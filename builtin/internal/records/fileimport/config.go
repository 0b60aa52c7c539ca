package fileimport

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/junctionhub/junction/builtin/internal/records"
	"github.com/junctionhub/junction/pluginsdk"
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
func (ec *EntityConfig) Check(i int, seen map[string]bool, problems *pluginsdk.Problems) Entity {
	where := fmt.Sprintf("config.entities[%d]", i)
	e := Entity{Name: ec.Name}
	switch {
	case ec.Name == "":
		problems.Addf("%s", where+".name is required")
	case !validName(ec.Name):
		problems.Addf("%s.name %q: use lowercase letters, digits, - or _", where, ec.Name)
	case seen[ec.Name]:
		problems.Addf("%s.name %q is used twice", where, ec.Name)
	}
	seen[ec.Name] = true
	if ec.Glob == "" {
		ec.Glob = "*"
	}
	if _, err := path.Match(ec.Glob, ""); err != nil || strings.Contains(ec.Glob, "/") {
		problems.Addf("%s.glob %q: want a file name pattern such as *.csv", where, ec.Glob)
	}
	if ec.Format == "" {
		ec.Format = string(records.CSV)
	}
	f, err := records.ParseFormat(ec.Format)
	if err != nil {
		problems.At(where+".format", "%v", err)
	}
	e.Read.Format = f
	if ec.Delimiter != "" {
		r, size := utf8.DecodeRuneInString(ec.Delimiter)
		if size != len(ec.Delimiter) {
			problems.Addf("%s.delimiter %q: want one character", where, ec.Delimiter)
		} else if f != records.CSV {
			problems.At(where+".delimiter", "only csv files have one")
		}
		e.Read.Comma = r
	}
	if _, err := records.NewReader(strings.NewReader(""), e.Read, records.Position{}); err != nil && f != "" {
		problems.At(where+".delimiter", "%v", err)
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
