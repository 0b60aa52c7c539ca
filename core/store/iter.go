package store

import "github.com/dgraph-io/badger/v4"

// closeIterator closes it once Badger has finished prefetching the value of
// the item it stands on. Iterator.Close waits only for the items it has
// buffered, not the current one: a loop that stops on an item without reading
// its value (a page that is full, a key past the range) leaves that item's
// prefetch goroutine running. If the store closes before it runs, it blocks
// for ever on the value-log file lock that DB.Close takes and never releases;
// goleak in TestMain caught one in CI. Item.Value waits for the prefetch, and
// costs nothing once it is done; without prefetching it would read the value,
// so the caller says whether values were prefetched.
func closeIterator(it *badger.Iterator, prefetched bool) {
	if prefetched && it.Valid() {
		_ = it.Item().Value(nil)
	}
	it.Close()
}
