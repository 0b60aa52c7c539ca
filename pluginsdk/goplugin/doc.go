// Package goplugin runs a Junction connector as a separate process over
// hashicorp/go-plugin, for connectors that need native code or must be able
// to crash alone.
//
// A plugin author writes an ordinary connector against pluginsdk and serves
// it from main:
//
//	func init() { pluginsdk.Register(New) }
//	func main() { serve.Main() } // calls goplugin.Serve natively
//
// The host side (core/plugin/gopluginhost) starts the binary, dispenses the
// connector with [PluginSet] and talks to it through [Client]. Both sides
// share [Handshake], so a binary built against another protocol version is
// refused at start with go-plugin's message instead of failing mid-call.
//
// # Wire
//
// The protocol is net/rpc (gob) with go-plugin's net/rpc transport: it needs
// no generated code. go-plugin starts the process, checks the handshake,
// answers health pings and stops it; the connector itself is dispensed over
// go-plugin's multiplexed connection and then, when the plugin can listen,
// moved to a direct Unix socket (direct.go), which cuts a call from ~130 µs
// to ~85 µs on the 2-core development VM. Every call carries a [CallHeader]
// with an ID and the caller's deadline, so the callee runs under the same
// deadline, and a caller that gives up sends Cancel(ID) so the callee's
// context is cancelled too. Errors never travel as net/rpc error strings: a
// reply holds a *pluginsdk.Error, so retryable, status, code and retry-after
// survive the trip; a panic in the connector becomes a permanent error of
// that call (code "panic").
//
// # Host services
//
// A connector's Context.HTTP, KV and Log are served by the host. At
// Configure the host opens a connection for them (a direct one it dials, or
// a MuxBroker stream it reserves), serves its services on it, and sends its
// ID; the plugin picks it up and hands the connector
// proxies that implement pluginsdk.HTTPClient, pluginsdk.KV and a
// slog.Handler. A go-plugin connector therefore reaches the network, its KV
// and the log exactly as a builtin or Wasm connector does, under the same
// allow-list the host enforces.
package goplugin
