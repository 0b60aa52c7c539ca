// Package directory keeps the contact directories (kind: Directory): contacts
// deduplicated by each directory's rules, their embedded data, transactions,
// mailing lists and survey distributions. It stores everything in the
// store's KV; Service is the one entry point, shared by the builtin tasks,
// the admin API and the survey builtin.
//
// # Matching
//
// A directory's dedup rules (config.Directory.Dedup, default [[email]]) are
// tried in order; a rule applies when the contact has every field of the
// rule, and matches a stored contact whose fields are all equal. Values are
// compared after trimming and lower-casing; a phone keeps only its digits and
// a leading "+" ("+1 (555) 010-0200" is "+15550100200"). The first rule that
// finds a contact wins. An input that satisfies no rule is refused: it could
// only ever create duplicates.
//
// # Key layout (all under the store's KV)
//
//	dir/<d>/c/<cid>                          the contact (JSON)
//	dir/<d>/m/<cid>                          empty: membership, for cheap counting
//	dir/<d>/u/<rule>/<v1>[/<v2>]             cid: the dedup claim of one rule's values
//	dir/<d>/by/<email|phone|extRef>/<v>/<cid> empty: lookup index for Find (not unique)
//	dir/<d>/tx/<cid>/<date>/<txid>           a transaction; the fixed-width UTC date
//	                                         makes a prefix scan time-ordered
//	dir/<d>/idem/<key>                       a task's result, for retries (TTL)
//	dir/<d>/lk/<cid>                         a node's lock of a contact (shared stores only; TTL)
//	dir/<d>/l/<lid>, ln/<name>, lm/<lid>/<cid>, cl/<cid>/<lid>
//	                                         mailing lists, names, members, and a
//	                                         contact's lists
//	dir/<d>/cd/<cid>/<did>                   empty: a contact's distributions
//	dist/<did>, dist-msg/<provider id>, dist-idem/<key>
//	                                         distributions, by provider message id,
//	                                         by idempotency key
//
// Values inside keys are normalised and path-escaped, so a "/" in an email
// cannot make one prefix match another's keys. IDs are a prefix (CID_, TX_,
// ML_, DIST_) and a ULID: listing a prefix yields creation order, and a page
// cursor is the last ID seen.
//
// # Why claims, locks and batches
//
// Two deliveries of the same person (Segment retries, AEP re-sends on each
// segment change) routinely arrive together, and must never create two
// contacts. The store arbitrates: a new contact first claims every one of
// its dedup keys with KV.SetNX, and whoever loses any claim gives back the
// ones it took (KV.CompareAndSwap, only while they still name its contact)
// and finds the winner's contact to update instead. Within the process,
// callers also take a lock per dedup key (so concurrent upserts of one
// person queue rather than race and retry) and a lock per contact (so two
// upserts that reach one contact through different rules do not lose each
// other's embedded data). Locks are taken in one order: idempotency key,
// dedup keys sorted, then the contact.
//
// Several nodes sharing one store (a cluster on JetStream) share no
// in-process locks, so there the contact's lock is also taken in the store
// ("dir/<d>/lk/<cid>", SetNX with a 30 s TTL, given back by
// CompareAndSwap): two nodes never read-modify-write one contact at once,
// and of two nodes that resolved the same new claim only the first creates
// the record. A new contact holds its store lock from its first claim to
// its record, so a node that resolves one of those claims waits, and does
// not take a claim its creator may still give back for a crashed writer's
// (which would leave two contacts). Because the claims are store-wide CAS, dedup holds across
// nodes: concurrent inputs of one person on any nodes, through one rule or
// different ones, leave one contact (cluster.go). On Badger, which one
// process opens at a time, the store lock is skipped.
//
// Everything else about one change (the record, its lookup index entries,
// released claims, a transaction, the idempotency result) is written in one
// atomic batch through Log().AppendWithKV with no events: a crash leaves
// either all of it or none. A claim whose contact record was never written
// (a crash between the two) is adopted by the next upsert that finds it
// (on a shared store, once the crashed writer's lock has expired), so it
// does not block that person. Since a transaction and the idempotency
// result of its task commit together, a retried task adds it exactly once.
//
// # Survey distributions
//
// The survey builtin records each invitation through this package:
// CreateDistribution (status queued; pass the task's idempotency key so a
// retry finds the same one), UpdateDistribution (sent with the provider's
// message ID, or failed with the error), DistributionByProviderMessageID
// (delivery callbacks), DistributionByPhone (a two-way SMS reply carries
// only the sender's phone: the newest sent or answered sms_two_way
// distribution to a contact with that phone) and RecordAnswer. Get lists a
// contact's distributions with its transactions.
package directory
