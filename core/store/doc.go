// Design notes for the Badger store (the package documentation is in
// store.go).
//
// # Key layout
//
// One Badger database holds everything; a prefix says what a key is.
//
//	log/<seq: 8 bytes big-endian>        an event (codec.go: compact binary, payload copied as is)
//	dedup/<connection>/<dedup key>       16 bytes: the event's seq, end of the window (Unix ns);
//	                                     Badger TTL = the window, so old keys disappear
//	run/<run id>                         a run: small header (status, workflow, dead letter) + JSON
//	ridx/s/<status>/<run id>             empty: runs by status
//	ridx/w/<workflow>/<run id>           empty: runs by workflow
//	ridx/ws/<workflow>/<status>/<run id> empty: runs by workflow and status (the console's query)
//	ridx/d/<run id>                      empty: dead-lettered runs
//	kv/<key>                             KV values, Badger TTL for expiry
//	secret/<name>                        AES-256-GCM: version byte, nonce, ciphertext; the key
//	                                     name is the additional data
//
// Big-endian sequences make the log iterate in append order; an event's ID
// and Seq live only in the key. Run IDs are ULIDs, so reverse iteration over
// any run prefix yields newest first, and a page cursor is simply the last
// ID seen. Index entries are written and removed in the same transaction as
// the run; Update reads the old run's header in that transaction to know
// which entries to remove. List still checks every run it loads against the
// whole filter, so an index prefix made ambiguous by a "/" in a name cannot
// leak runs. Run counts by status are kept in memory (counted from
// ridx/s/ at Open, moved after each commit) rather than in a stored counter
// that every run write would have to read and rewrite.
//
// # Group commit
//
// Inbound events are acknowledged only once synced. A Badger transaction
// committed with SyncWrites costs a sync of its own: Badger batches
// concurrent commits into one write request, but still syncs its memtable
// WAL once per transaction, which tops out near 7.7k transactions/s on two
// cores however many writers there are. One transaction holding many
// writes costs one sync. So every write of the store, not only appends,
// goes through one committer goroutine (commit.go):
//
//   - callers validate and encode on their own goroutines, queue an op and
//     wait for its answer;
//   - the committer takes everything queued, applies the ops in order to one
//     read-write transaction, commits it (one sync) and answers every
//     caller. While it syncs, new callers queue up, so the batch grows with
//     the load and one sync is shared by more callers: throughput rises with
//     concurrency, and a lone caller still pays a single sync;
//   - a transaction is cut before Badger's size limits, estimated per op;
//     should Badger still answer ErrTxnTooBig, the ops that fit are
//     committed and the rest go in the next transaction. One op never spans
//     two transactions, so each call's events (and its KV writes) stay
//     atomic. An op that fails (a bad write, an Update of a missing run)
//     fails alone: the batch is rebuilt without it, as ops may have written
//     part of their entries before failing.
//
// Being the only writer makes several things simple and cheap: sequence
// numbers are a plain counter (recovered at Open from the last log key);
// dedup checks, SetNX and the read-old-run of Update need no locks and
// cannot conflict, because a transaction sees its own pending writes (two
// duplicates in one batch are caught) and no one else writes; Badger's
// conflict detection is turned off. Reads never wait for the committer: they
// use read-only transactions.
//
// A caller whose context ends while its op is queued gets ctx.Err(); the op
// is left out if the committer has not taken it yet, and committed anyway if
// it has. Either way a retry with the same DedupKey does not append twice.
//
// Dedup windows are checked against the end time stored in the record, not
// only Badger's TTL, because Badger expires keys at whole seconds by the
// wall clock and tests need an injectable clock.
//
// Badger keeps values under its value threshold (1 MB by default) in the
// LSM tree and its memtable WAL, so a 1 KB event costs no value-log write;
// bigger payloads go to the value log, which a background loop garbage
// collects.
//
// # Retention (retention.go)
//
// An Expirer removes old records in the background: the log from its oldest
// end (events are in arrival order, so a pass stops at the first young one,
// and never passes the dispatcher's cursor), runs by ID (ULIDs sort by
// creation time), keeping unfinished runs and dead letters younger than
// their own limit. Deletes go through the committer like any write, at most
// 256 records per op, so a pass shares group commits with ingest instead of
// holding Badger for long; the run delete re-reads each run's header in its
// transaction, so a run replayed or resumed since the scan is judged by its
// current state. Dedup keys carry a Badger TTL and need no pass. Deletes
// are tombstones: disk space returns when a compaction merges them with the
// data. Under steady traffic Badger's own compactions do it; after a large
// expiry, once the tombstones have left the memtable, the Expirer flattens
// the tree (db.Flatten) and collects the value log. DropPrefix would free
// whole ranges at once but blocks every write while it flushes the
// memtable, so it is not used.
//
// # Full disk (diskguard.go)
//
// Badger writes its memtable WAL and tables through mmap. On a full file
// system the page fault of such a write raises SIGBUS and the Go runtime
// aborts ("fatal error: fault" in logFile.writeEntry, reproduced on a full
// tmpfs): no ENOSPC error reaches the caller, and nothing can recover. So
// the committer checks free space (statfs) before each group commit and
// refuses every write but expiry deletes with ErrDiskFull (which also
// matches syscall.ENOSPC) while less than MinFreeBytes is free; the margin
// covers memtable flushes and compactions already under way. An ENOSPC
// that a commit does return (from write(2) or fsync) stops writes until a
// probe file can be written and synced. Writes resume on their own once
// space returns.

package store
