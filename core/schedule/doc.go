// Package schedule runs connection fetches and scheduled workflows at the
// times their `schedule:` blocks say: `every` (optionally aligned to a start
// time of day) or `cron`, in the schedule's time zone or the organisation's.
//
// # Persistence and restarts
//
// Each schedule's state (when it was applied, its next run, the last run's
// start, end and error) lives in the store's KV under "schedule/<key>", so:
//
//   - An unchanged schedule keeps its next run across restarts; a changed
//     one (different every, start, cron or time zone) is applied anew.
//   - The next run is saved before a run starts. A restart therefore never
//     runs the same slot twice.
//   - A slot that passed while Junction was down runs once at start-up, not
//     once per missed slot: the following run is the next slot after now.
//   - A run that was interrupted (crash, or shutdown cancelling it) has a
//     last start after its last end; it runs once at the next start-up. For
//     fetches that is safe: the cursor makes a repeated fetch continue, not
//     start over.
//
// # Overlap
//
// An entry never runs twice at once. Slots that pass while a run is still
// going are skipped (logged), so a slow fetch does not pile up runs behind
// it. The fetch runner additionally refuses a second job of a connection
// (manual and scheduled fetches share that guard).
//
// # Several nodes
//
// Nodes sharing one store (a cluster on JetStream) all run the same
// schedules; a due slot fires on the node that takes the lease
// "lease/schedule/<key>" (core/lease), which it holds while the slot runs.
// Under the lease the stored state decides whether the slot is still due,
// so each period fires once cluster-wide; the state is saved with the
// lease's fencing token and a save under an older token is refused. When
// the holder dies its lease expires after the lease TTL (15 s) and the
// next due slot fires on another node; the slot it was running is not
// repeated elsewhere. On one node the lease is always won. See cluster.go.
//
// # Daylight saving
//
// `every: 24h` (and other whole days) counts calendar days on the wall
// clock, so `start: "02:00"` stays at 02:00 local time: the run 23 or 25
// hours after the previous one on the days the clocks change. On a spring
// forward where 02:00 does not exist, it runs at the instant the clock jumps
// (03:00 local); on a fall back a repeated wall time runs once, at its first
// occurrence. Cron expressions follow the same rules. Periods that are not
// whole days are fixed durations.
//
// # Clock
//
// The clock is injected (Options.Clock), and the loop sleeps at most
// Options.MaxWait at a time, so a wall clock step is noticed promptly and a
// test can drive the scheduler through days without waiting.
package schedule
