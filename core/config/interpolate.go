package config

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// interpolateTree replaces ${VAR} and ${VAR:-default} in every scalar value
// (never in keys) below n, reporting unset variables at the scalar. A plain
// (unquoted) scalar is re-typed after substitution, so `workers: ${WORKERS}`
// with WORKERS=4 is the int 4, exactly as if 4 had been written; a quoted one
// stays a string in free-form values (config, with), but a setting that wants
// a bool or an int reads it as one, since inside a flow mapping
// ({allow_private: "${X}"}) the quotes cannot be left out.
func (d *decoder) interpolateTree(n *yaml.Node, lookup func(string) (string, bool)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			d.interpolateTree(c, lookup)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			n.Content[i].Value = unshieldVars(n.Content[i].Value)
			d.interpolateTree(n.Content[i+1], lookup)
		}
	case yaml.ScalarNode:
		n.Value = unshieldVars(n.Value)
		if !strings.Contains(n.Value, "${") {
			return
		}
		out, missing, err := interpolate(n.Value, lookup, d.keepUnset)
		if err != nil {
			d.errorf(n, "", "%v", err)
			return
		}
		for _, name := range missing {
			d.errorf(n, "", "environment variable %s is not set (write ${%s:-default} for a default, $${ for a literal ${)", name, name)
		}
		if len(missing) > 0 || out == n.Value {
			return
		}
		n.Value = out
		if d.interpolated == nil {
			d.interpolated = map[*yaml.Node]bool{}
		}
		d.interpolated[n] = true
		// Only a plain scalar that still resolves to text is re-typed; an
		// empty result stays an empty string rather than becoming null.
		if n.Style == 0 && n.ShortTag() == "!!str" && out != "" {
			n.Tag = ""
			n.Tag = n.ShortTag()
		}
	}
	// Aliases are skipped: the anchored node they point to is visited where it
	// is defined, and visiting it twice would expand $${ twice.
}

// interpolate expands ${VAR} and ${VAR:-default} in s. `$${` is a literal
// `${`; a `$` anywhere else is kept as is, so passwords may contain it. The
// default applies when the variable is unset or empty, as in POSIX shells.
// It returns the names of unset variables that have no default.
func interpolate(s string, lookup func(string) (string, bool), keepUnset bool) (string, []string, error) {
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", nil, fmt.Errorf("unterminated ${ in %q (write $${ for a literal ${)", s)
			}
			expr := s[i+2 : i+2+end]
			name, def, hasDef := strings.Cut(expr, ":-")
			if !validEnvName(name) {
				return "", nil, fmt.Errorf("invalid variable name %q in ${%s}: want letters, digits and _, not starting with a digit", name, expr)
			}
			v, ok := lookup(name)
			switch {
			case ok && (v != "" || !hasDef):
				b.WriteString(v)
			case hasDef:
				b.WriteString(def)
			case keepUnset:
				b.WriteString("${" + expr + "}")
			default:
				missing = append(missing, name)
			}
			i += 2 + end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), missing, nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// The braces of ${VAR} are YAML flow indicators, so CONTRACT.md's
// `auth: {type: api_key, secret: ${KEY}}` is not valid YAML as written. Before
// parsing, shieldVars swaps the braces of every ${...} for look-alike runes
// that YAML treats as plain text; unshieldVars swaps them back in each scalar
// before interpolation. Replacing one rune by one rune keeps every line and
// column the parser reports exact. `$${` (a literal) is left alone.
const (
	shieldOpen  = "\u2983" // ⦃
	shieldClose = "\u2984" // ⦄
)

var unshield = strings.NewReplacer("$"+shieldOpen, "${", shieldClose, "}")

func shieldVars(data []byte) []byte {
	if !bytes.Contains(data, []byte("${")) {
		return data
	}
	var out bytes.Buffer
	out.Grow(len(data) + 16)
	for i := 0; i < len(data); i++ {
		if data[i] == '$' && i+1 < len(data) && data[i+1] == '$' {
			out.WriteString("$$")
			i++
			continue
		}
		if data[i] == '$' && i+1 < len(data) && data[i+1] == '{' {
			end := bytes.IndexAny(data[i+2:], "}\n")
			if end >= 0 && data[i+2+end] == '}' {
				out.WriteString("$" + shieldOpen)
				out.Write(data[i+2 : i+2+end])
				out.WriteString(shieldClose)
				i += 2 + end
				continue
			}
		}
		out.WriteByte(data[i])
	}
	return out.Bytes()
}

func unshieldVars(s string) string {
	if !strings.Contains(s, shieldOpen) {
		return s
	}
	return unshield.Replace(s)
}
