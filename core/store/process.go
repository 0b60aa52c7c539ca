package store

// SingleProcess reports that the store is Badger's, which one process
// opens at a time (Badger locks its directory): no other node writes it,
// so in-process guards cover every writer, and a lease found in it at
// start belongs to a process that died.
func (b *Badger) SingleProcess() bool { return true }

// IsSingleProcess reports whether s (or the store it wraps by embedding)
// is written by this process alone; a shared store (JetStream) is not.
func IsSingleProcess(s Store) bool {
	sp, ok := s.(interface{ SingleProcess() bool })
	return ok && sp.SingleProcess()
}
