package config

import (
	"fmt"
	"strings"
)

// connectorRefProblem says what is wrong with a `connector:` value that
// connectorRE refuses, naming the part at fault and the accepted shapes.
func connectorRefProblem(s string) string {
	const shapes = "want a builtin or plugin name, name@version, or name@version/wasm or name@version/goplugin to pin a plugin's form (lower case letters, digits, - and _)"
	rest, form, hasForm := strings.Cut(s, "/")
	_, version, hasVersion := strings.Cut(rest, "@")
	switch {
	case hasForm && !hasVersion:
		return fmt.Sprintf("%q: a form is pinned with its version, e.g. %s@1.0.0/%s; %s", s, rest, form, shapes)
	case hasForm && form != "wasm" && form != "goplugin":
		return fmt.Sprintf("%q: form %q: want wasm or goplugin", s, form)
	case hasVersion && version == "":
		return fmt.Sprintf("%q: empty version after @; %s", s, shapes)
	}
	return fmt.Sprintf("%s, got %q", shapes, s)
}
