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
// The host side (core/plugin/goplugin) starts the binary, dispenses the
// connector with [PluginSet] and talks to it through [Client]. Both sides
// share [Handshake], so a binary built against another protocol version is
// refused at start with go-plugin's message instead of failing mid-call.
//
// # Wire
//
// The protocol is go-plugin's net/rpc (gob over yamux over a Unix socket):
// it needs no generated code, and one round trip costs tens of
// microseconds, far below the network calls a connector makes. Every call
// carries a [CallHeader] with an ID and the caller's deadline, so the callee
// runs under the same deadline, and a caller that gives up sends Cancel(ID)
// so the callee's context is cancelled too. Errors never travel as net/rpc
// error strings: a reply holds a *pluginsdk.Error, so retryable, status,
// code and retry-after survive the trip.
//
// # Host services
//
// A connector's Context.HTTP, KV and Log are served by the host. At
// Configure the host reserves a MuxBroker stream, serves its services on it,
// and sends the stream ID; the plugin dials it and hands the connector
// proxies that implement pluginsdk.HTTPClient, pluginsdk.KV and a
// slog.Handler. A go-plugin connector therefore reaches the network, its KV
// and the log exactly as a builtin or Wasm connector does, under the same
// allow-list the host enforces.
package goplugin
