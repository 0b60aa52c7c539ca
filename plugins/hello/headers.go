package main

// FlatHeaders: Receive reads headers only through HeaderValue, so under Wasm
// the glue skips building the header map (pluginsdk.FlatHeaders).
func (h *Hello) FlatHeaders() {}
