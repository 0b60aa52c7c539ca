// Package serve is the one call a plugin's main makes. The build target picks
// the form: built with GOOS=wasip1 (a -buildmode=c-shared reactor) it links
// in the Wasm guest glue and Main does nothing, because a reactor never runs
// main; built natively it serves the registered connector as a go-plugin
// process.
//
//	func init() { pluginsdk.Register(func() pluginsdk.Connector { return &Hello{} }) }
//	func main() { serve.Main() }
package serve
