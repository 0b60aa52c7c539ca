package pluginsdk

// FlatHeaders is implemented by a connector that reads request headers only
// through HTTPRequest.HeaderValue, never through the Header map. Under Wasm
// the guest glue then skips building the map: HeaderValue reads the headers
// where the request envelope holds them. A Go guest pays about 3.5 µs to
// build a 4-entry map (pluginsdk/RATIONALE.md), a third of a small
// connector's whole Receive. Built natively or as a go-plugin, Header is
// filled as always, so a connector that implements FlatHeaders but reads
// Header directly sees nil only under Wasm; its form-agreement tests
// (plugintest's acceptance suite runs every form) catch that.
type FlatHeaders interface {
	FlatHeaders()
}

// HeaderLookup finds the first value of a header by its canonical name.
type HeaderLookup interface {
	First(name string) (string, bool)
}

// SetHeaderLookup makes HeaderValue consult l when Header is nil. It is for
// SDK glue (pluginsdk/wasm), which passes the headers of a FlatHeaders
// connector this way; connectors have no use for it.
func (r *HTTPRequest) SetHeaderLookup(l HeaderLookup) { r.lookup = l }
