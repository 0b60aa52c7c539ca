package registry

import (
	"fmt"
	"strings"

	"github.com/junctionhub/junction/core/names"
)

// Ref is what a connection's `connector:` names for a plugin:
//
//	name                  the highest installed version, its preferred form
//	name@version          that version, its preferred form
//	name@version/form     that version in that form (wasm or goplugin)
//
// The form is part of what is installed, so one connector source can be
// installed as a Wasm module and as a go-plugin executable of the same
// version, side by side; a connection that cares pins one.
type Ref struct {
	Name    string
	Version string // "" for the highest installed
	Form    Kind   // "" for the preferred installed form
}

// PreferredForms is the order in which a reference without a form picks
// among the installed forms of one version: Wasm first, because it runs
// sandboxed in process (no sockets or files, only the host's http_request
// under the connection's allow-list, a memory limit and a deadline per
// call), which is what PLUGINS.md recommends for third-party connectors; a
// go-plugin executable is an ordinary process that could reach anything, so
// it runs only when it is the form installed or a connection pins it.
var PreferredForms = []Kind{KindWasm, KindGoPlugin}

// ParseRef reads name[@version[/form]].
func ParseRef(s string) (Ref, error) {
	rest, form, hasForm := strings.Cut(s, "/")
	name, version, hasVersion := strings.Cut(rest, "@")
	r := Ref{Name: name, Version: version, Form: Kind(form)}
	if !names.ValidName(name) {
		return r, fmt.Errorf("plugin reference %q: bad name %q (a lowercase letter, then letters, digits, - or _)", s, name)
	}
	if hasVersion {
		if _, err := parseSemver(version); err != nil {
			return r, fmt.Errorf("plugin reference %q: %w", s, err)
		}
	}
	if hasForm {
		if !hasVersion {
			return r, fmt.Errorf("plugin reference %q: a form is pinned with its version, e.g. %s@1.0.0/%s", s, name, form)
		}
		if r.Form != KindWasm && r.Form != KindGoPlugin {
			return r, fmt.Errorf("plugin reference %q: form %q: want %s or %s", s, form, KindWasm, KindGoPlugin)
		}
	}
	return r, nil
}

// String is the reference as written.
func (r Ref) String() string {
	s := r.Name
	if r.Version != "" {
		s += "@" + r.Version
	}
	if r.Form != "" {
		s += "/" + string(r.Form)
	}
	return s
}

// formRank orders forms by PreferredForms.
func formRank(k Kind) int {
	for i, f := range PreferredForms {
		if f == k {
			return i
		}
	}
	return len(PreferredForms)
}
