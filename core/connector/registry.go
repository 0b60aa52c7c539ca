// Package connector is the registry of connector kinds compiled into the
// binary, and the common handle through which the rest of Junction talks to a
// configured connection, whatever form its connector takes (builtin, Wasm,
// go-plugin).
package connector

import (
	"fmt"
	"sort"
	"sync"

	"github.com/junctionhub/junction/core/names"
	"github.com/junctionhub/junction/pluginsdk"
)

// Builtin is a connector kind compiled into the binary.
type Builtin struct {
	// Name is what a connection's `connector:` names (webhook, s3, sftp);
	// the registry's key is its ID, connector.<Name>.
	Name string
	// New returns a fresh, unconfigured connector.
	New func() pluginsdk.Connector
}

// ID is the builtin's key in Junction's one namespace (core/names).
func (b Builtin) ID() names.ID { return names.Connector(b.Name) }

var (
	mu       sync.RWMutex
	builtins = map[names.ID]Builtin{}
)

// Register adds a builtin connector kind under the ID connector.<Name>. It
// is meant to be called from an init function and panics on a mistake
// (empty or malformed name, nil constructor, an ID already registered), so
// registration errors never survive to run time.
func Register(b Builtin) {
	if b.Name == "" {
		panic("connector.Register: empty name")
	}
	if b.New == nil {
		panic(fmt.Sprintf("connector.Register(%q): nil constructor", b.Name))
	}
	mu.Lock()
	defer mu.Unlock()
	names.Register(b.ID())
	builtins[b.ID()] = b
}

// LookupBuiltin returns the builtin connector kind that `connector: name`
// names.
func LookupBuiltin(name string) (Builtin, bool) {
	mu.RLock()
	defer mu.RUnlock()
	b, ok := builtins[names.Connector(name)]
	return b, ok
}

// Builtins lists the registered builtin kinds by name.
func Builtins() []Builtin {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Builtin, 0, len(builtins))
	for _, b := range builtins {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
