// Package fetch runs fetch jobs of pull connections (pluginsdk.Fetcher and
// pluginsdk.MetadataProvider): it drives a connector's Fetch from its stored
// cursor until the connector says there is no more, writes the records to the
// durable log, and keeps a job record (status, records, bytes, rate, error)
// that the API and `junction connection fetch` show while it runs.
//
// # The commit contract (what a connector may rely on)
//
// For each entity the runner keeps the connector's cursor in the store's KV
// under "fetch/<connection>/<entity>/cursor". One Fetch call is one batch:
//
//  1. The runner calls Fetch with the cursor last committed.
//  2. It appends the batch's events to the log AND writes the returned
//     cursor in the same write (store.Log.AppendWithKV), synced to disk.
//     The cursor is never written before the events it covers.
//  3. Only after that commit is Fetch called again (with the new cursor).
//
// So a connector may perform a side effect that loses data if the batch was
// not stored (delete or archive an imported file, ack upstream) at the start
// of the call AFTER the batch that returned that data: when Fetch is called
// with cursor C, every event of the batch that returned C is durable. In
// pluginsdk terms: "on Fetch(cursor C), everything your previous Fetch
// returned together with C is committed; finish its side effects now, then
// fetch". If the hub stops between 2 and 3, the next job calls Fetch with C
// again, so such a side effect must be idempotent (archiving a file that is
// already archived is a no-op).
//
// A connector error ends the job: the job is "failed" with the error, the
// cursor stays at the last committed batch, and the next job continues from
// there. A batch too large for one store write is written in chunks with the
// cursor in the last chunk: a crash between chunks re-fetches the batch
// (at-least-once; DedupKey drops the repeats).
//
// Fetch must make progress: a result with More set but no events and an
// unchanged cursor fails the job instead of looping.
//
// # Jobs
//
// At most one job per connection runs at a time (manual and scheduled share
// the guard: a second Start gets ErrBusy with the running job). Job records
// live under "fetchjob/<connection>/<id>" (IDs sort by start), the newest
// 100 per connection are kept; while a job runs its record is saved at most
// every Options.ProgressInterval. A job still "running" in the store when the
// runner starts was cut off by a crash and is marked failed, unless some
// node holds the connection's fetch lease (it is that node's job).
//
// Across nodes sharing one store, a job runs only under the lease
// "lease/fetch/<connection>" (lease.go, core/lease): another node's Start
// gets ErrBusy with the stored running job, and a job whose lease is lost
// is cancelled. The job record keeps the lease's fencing token
// (leaseToken). The cursor write is guarded (store.KVWrite.Guard) by the
// cursor the job read: a node that lost its lease without noticing finds
// the cursor moved by the new holder and commits nothing more
// (store.ErrConflict). A batch too large for one write appends its
// earlier chunks unguarded; their records carry dedup keys where the
// connector gives them.
//
// # Credentials and keys
//
// Connection credentials come from YAML with ${VAR}s. "Reconnect" stores
// replacement auth encrypted under the secret "conn/<connection>/auth"; the
// connection manager prefers it to the YAML auth (ReconnectAuth) at start,
// and a live reconfigure callback applies it at once. Cursors are not
// touched: a fetch after a reconnect continues where the last one stopped.
// A rotated per-connection webhook API key is kept the same way under
// "conn/<connection>/webhook-key" (WebhookKey).
package fetch
