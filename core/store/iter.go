package store

import "github.com/dgraph-io/badger/v4"

// iterate opens an iterator on txn and returns it with the function that
// closes it. Every iterator of the store goes through here because Badger's
// Iterator.Close waits only for the values it prefetched into its buffer,
// not for the one of the item it stands on: a loop that stops on an item
// without reading its value (a page that is full, a key past the range)
// leaves that prefetch running. If the store closes before it runs, it
// blocks for ever on the value-log file lock that DB.Close takes and never
// releases (goleak in TestMain caught one in CI). So the close first waits
// for it through Item.Value, which costs nothing once the prefetch is done;
// without prefetching, Value would read the value, so it is skipped.
func iterate(txn *badger.Txn, opts badger.IteratorOptions) (*badger.Iterator, func()) {
	it := txn.NewIterator(opts)
	return it, func() {
		if opts.PrefetchValues && it.Valid() {
			_ = it.Item().Value(nil)
		}
		it.Close()
	}
}
