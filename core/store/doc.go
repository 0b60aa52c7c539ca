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
//   - before it starts a transaction, the committer lingers for the callers
//     its last commit answered, when that commit carried several (at most a
//     quarter of that commit's duration, capped at 1 ms; linger.go).
//     Without it, concurrent writers split into two cohorts that alternate,
//     each waiting two syncs: at 64 writers a commit carried 32 appends on
//     average and the log topped out at 8.6k appends/s; with it, 57-61 and
//     14-17k/s (BenchmarkLogAppend/conc=64, same machine, back to back).
//     Writers that take longer than that to come back (HTTP clients on a
//     busy machine) turn it off for a while (lingerBackoff); the commit
//     metrics (CommitStats, /metrics) show which regime ingest is in;
//   - a transaction is cut before Badger's size limits, estimated per op;
//     should Badger still answer ErrTxnTooBig, the ops that fit are
//     committed and the rest go in the next transaction. One op never spans
//     two transactions, so each call's events (and its KV writes) stay
//     atomic. An op that fails (a bad write, an Update of a missing run)
//     fails alone: the batch is rebuilt without it, as ops may have written
//     part of their entries before failing.
//
// What a synced commit costs in CPU (issue 12): a `perf record -e
// cpu-clock -g` of the hub for 15 s under the load harness (c64, 1.1 KB
// events, about 13k req/s, 21 ops per commit) puts 30.5 % of the hub's
// samples in Badger's write path, and 18.6 % in its two msync calls alone
// (value log 12.8 %, memtable WAL 5.8 %). Most of that is the kernel
// writing back pages Badger dirtied through its mmap: before writeback
// it write-protects each page again, which on this paravirtualized
// machine means a TLB shootdown IPI to the other CPU per page (8.8 % of
// the samples, page_vma_mkclean_one → flush_tlb_mm_range), and the next
// write to that page then faults. A file written with write(2) and synced
// with fdatasync would skip both, but Badger writes its WAL and value log
// only through mmap. Syncing the files ourselves instead of with
// SyncWrites (a pipelined committer: Badger without SyncWrites, fsync of
// the written WAL and value-log files by a syncer goroutine) did not help:
// in one 60 s run each, interleaved, 14,034 and 13,079 req/s against
// 13,320 and 13,642 for this design, the same within the noise, because
// fsync does the same writeback. That design was not merged.
//
// For scale, the same hub built with SyncWrites off (for measurement only:
// it acknowledges unsynced writes, so it is not an option) made 20,113 and
// 19,412 req/s at 52-54 µs of CPU per request, 0.85 and 0.74 of the bare
// fiber handler, against 13,174 and 12,168 req/s at 77-85 µs (0.56 and
// 0.46) synced, in interleaved 60 s runs. So the synced write is nearly
// all of what separates the hook path from issue 12's goal of 0.75 of the
// bare handler. A log written with write(2) and fdatasync, one sync per
// group commit, is the lever left, and it falls short of that goal too: a
// build made for measurement only, Badger without SyncWrites plus each
// group commit's bytes written to a journal file and fdatasynced before
// the answer (no record encoding, no replay: an upper bound), made 1.02-
// 1.27 times this design's req/s and 0.52-0.65 of the bare handler, in
// three invocations of six interleaved 60 s runs (load harness, c64).
// A real one would also have to make Badger itself safe to run unsynced
// between checkpoints: without SyncWrites it never syncs a finished
// value-log file, flushes L0 tables whose value pointers reach into
// unsynced value-log pages, and its value-log GC rewrites old values
// unsynced before deleting the file that held them, so a power loss could
// take data written long before the journal's last checkpoint.
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
// Values over 512 bytes (events, runs) go to the value log and the LSM tree
// keeps a pointer; small records (dedup keys, indexes, counters, KV) stay in
// the tree. The value log is garbage collected by a background loop.
//
// # Memory
//
// Badger's defaults are for a database server (tuning.go has each value and
// why). Measured with the load harness (e2e/cmd/loadgen: c64 for 5 minutes
// posting a 1.1 KB Segment track event, then 60 s idle) on a 2-core machine
// shared with other builds, in two back-to-back pairs (load average 3-16 in
// the first, 1-7 in the second):
//
//	                      defaults             tuning.go + trim
//	req/s                 7,367 / 10,544       8,034 / 9,221
//	p99 (max)             64 / 37 ms (3.1 s)   31 / 29 ms (0.27 s)
//	RSS at end            1,450 / 3,749 MiB    135 / 157 MiB
//	RSS peak (VmHWM)      2,903 / 4,329 MiB    272 / 254 MiB
//	RSS idle after 60 s   207 / 3,749 MiB      136 / 157 MiB
//
// The rate is within the noise of a shared machine (the pairs disagree on
// which is faster); the tail and the memory are not.
//
// Two things made the difference. Values in the LSM tree (the default
// threshold is 1 MB) meant every event went through five 64 MiB memtable
// arenas and then through every compaction, with four compactors building
// tables on the Go heap: 626 MiB of anonymous memory after 60 s. With values
// in the value log, compaction rewrites only keys and pointers and the heap
// stays near 50 MiB. But Badger mmaps every value-log file for as long as it
// exists, so each page written stays in RSS as file-backed memory: 416 MiB
// after 60 s. trim_linux.go pages out the files Badger has finished writing
// every second (MADV_PAGEOUT, which never discards data); the kernel
// keeps or drops them like any page cache.
//
// Small value-log files keep the written-but-not-yet-trimmed part small;
// the cost is one open file and one mapping per 32 MiB of retained values
// (Go raises the soft open-file limit to the hard limit at start).
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
// are tombstones: the keys' space returns when a compaction merges them,
// and the values' (events and runs live in the value log) when value-log
// GC rewrites a file whose values are mostly dead. After a large expiry,
// once the tombstones have left the memtable, the Expirer flattens the
// tree (db.Flatten) and collects the value log. DropPrefix would free
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
