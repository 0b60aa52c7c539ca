// Package pluginsdk is what a Junction connector author imports: the
// Connector interface and its roles (Receiver, Fetcher, MetadataProvider,
// Performer), the wire types that cross every boundary, typed errors, and the
// host services a connector is given (HTTP, KV, Log). It depends on the
// standard library only, so a connector builds for GOOS=wasip1 GOARCH=wasm as
// well as natively.
package pluginsdk
