package pluginsdk

// HostSettings are the keys of a connection's config that the host reads
// itself, for an inbound connector that takes them: embed it in the Config
// struct, so DecodeConfig knows the keys, and call Check, so a bad value
// fails at Configure instead of being ignored by the host.
//
//	dedup_window: a delivery whose dedup key was stored within this window is
//	              dropped (the host's default when unset)
//	pool_size:    Wasm instances serving calls at once (the host's default, 4)
//	max_events:   the most events one inbound request may hold; a request
//	              with more is refused whole with 413 (DefaultMaxEvents)
type HostSettings struct {
	DedupWindow *Duration `json:"dedup_window"`
	PoolSize    *int      `json:"pool_size"`
	MaxEvents   int       `json:"max_events"`
}

// Check adds a problem for each setting out of range.
func (h HostSettings) Check(p *Problems) {
	if h.DedupWindow != nil {
		p.Check("config.dedup_window", h.DedupWindow.Positive(0))
	}
	if h.PoolSize != nil && *h.PoolSize < 1 {
		p.At("config.pool_size", "%d, want 1 or more Wasm instances", *h.PoolSize)
	}
	if h.MaxEvents < 0 {
		p.At("config.max_events", "%d, want a positive number of events per request", h.MaxEvents)
	}
}

// EventCap is max_events, or DefaultMaxEvents when it is unset.
func (h HostSettings) EventCap() int {
	if h.MaxEvents > 0 {
		return h.MaxEvents
	}
	return DefaultMaxEvents
}
