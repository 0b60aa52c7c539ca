package main

// FlatHeaders: the connector reads headers only through HeaderValue, so
// under Wasm the glue skips building the header map (pluginsdk.FlatHeaders).
func (s *Segment) FlatHeaders() {}
