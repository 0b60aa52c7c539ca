package pluginsdk

import "sync"

var (
	regMu   sync.Mutex
	factory func() Connector
)

// Register records this program's connector constructor. A plugin calls it
// once, from init, so that every build target finds it: a Wasm reactor module
// never runs main (its _initialize runs only package initialisation), while a
// go-plugin binary serves from main.
//
//	func init() { pluginsdk.Register(New) }
//
// It holds one constructor, not names: a plugin program is one connector,
// named by its Spec.Name. The host keeps the one namespace of names (its
// core/names, shared with the builtin connectors and tasks), checks at
// build that the manifest's name is the Spec's, and refuses at install a
// name that a builtin already has.
func Register(f func() Connector) {
	regMu.Lock()
	defer regMu.Unlock()
	if f == nil {
		panic("pluginsdk.Register: nil constructor")
	}
	if factory != nil {
		panic("pluginsdk.Register: called twice")
	}
	factory = f
}

// Registered returns the constructor passed to Register, or nil.
func Registered() func() Connector {
	regMu.Lock()
	defer regMu.Unlock()
	return factory
}
