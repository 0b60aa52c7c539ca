package store

import "github.com/dgraph-io/badger/v4"

// Badger's defaults are sized for a database server with gigabytes to
// spare: five 64 MiB memtables (each a Go-heap arena of about 1.45× its
// size, plus an mmapped write-ahead log), a 256 MiB block cache, four
// compactors each holding a table builder, and 1 GiB value-log files that
// are mmapped at twice that size. Under a steady c64 ingest that came to
// 0.8-1.5 GB of RSS, and 2.9 GB at peak (issue 10).
//
// Junction's store is small by comparison: events of a few KB, appended once
// and read back soon after by the dispatcher, and runs read by id. So the
// options below trade compaction headroom for a bounded footprint. They were
// checked together, not swept one by one, with the load harness
// (e2e/cmd/loadgen): ingest rate and p99 held or improved against the
// defaults while RSS fell tenfold (numbers in doc.go).
const (
	// memTableSize bounds each memtable (arena ≈ 1.45× this, on the Go
	// heap). With events in the value log (valueThreshold) a memtable holds
	// their keys and value pointers, so 16 MiB still covers tens of
	// thousands of events, and flushes to L0 in well under a second.
	memTableSize = 16 << 20
	// numMemtables: one being written and up to two waiting to flush, so a
	// slow flush does not stall ingest at once.
	numMemtables = 3
	// blockCacheSize and indexCacheSize cap the ristretto caches. With an
	// index cache, table indexes and bloom filters are loaded on demand
	// instead of all being kept on the heap for every table.
	blockCacheSize = 16 << 20
	indexCacheSize = 16 << 20
	// valueLogFileSize is the size of each value-log file (mmapped at twice
	// that while written). The file being written stays resident until it
	// is finished and trimmed (trim.go), so this bounds that part of RSS;
	// small files also let value-log GC reclaim space in smaller steps. The
	// costs: one open file and one mapping per 32 MiB of retained values,
	// and no single value (an event, a run) may exceed 32 MiB, far above
	// max_body_bytes' 1 MiB default.
	valueLogFileSize = 32 << 20
	// numCompactors: Badger's minimum. One works on L0, one on the rest;
	// each holds a table builder's buffers.
	numCompactors = 2
	// baseTableSize is the target size of L1+ tables, which is also the
	// size of the buffers a compaction builds in memory.
	baseTableSize = 2 << 20
	// valueThreshold: values larger than this go to the value log and the
	// LSM tree keeps a pointer. Events (most are 0.5-10 KB) then stay out of
	// the memtables and out of compaction, which rewrites only keys; small
	// records (indexes, counters, dedup keys) stay inline. With Badger's
	// 1 MB default every event went through the memtables and every
	// compaction: 490-626 MiB of Go heap after 60 s at c64.
	valueThreshold = 512
)

// serviceOptions sizes Badger for a long-running service (see above). An
// in-memory store (tests) keeps Badger's value threshold: it has no value
// log, and refuses values above the threshold.
func serviceOptions(o badger.Options, inMemory bool) badger.Options {
	threshold := int64(valueThreshold)
	if inMemory {
		threshold = o.ValueThreshold
	}
	return o.
		WithMemTableSize(memTableSize).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(blockCacheSize).
		WithIndexCacheSize(indexCacheSize).
		WithValueLogFileSize(valueLogFileSize).
		WithNumCompactors(numCompactors).
		WithBaseTableSize(baseTableSize).
		WithValueThreshold(threshold)
}
