// Package workflow runs workflows: a dispatcher reads the durable event log,
// matches each event against the workflows its connection triggers, applies
// the filter and field mappings, and records a run; workers execute the runs'
// tasks in order, recording each task's rendered input, output or error.
//
// Delivery is at-least-once with exactly-once run creation:
//
//   - The runs for a batch of events are created in the same write as the
//     dispatcher's cursor, so an event yields its runs once even across a
//     crash between the two.
//   - A task's result is stored before the next task starts. After a crash,
//     unfinished runs resume at the first task without a stored result. The
//     task that was in flight runs again with the same idempotency key (run
//     ID + "/" + task name), so a target that honours the key performs it once.
//   - A retryable task error (network, 5xx, 429, a crashed plugin) is retried
//     with exponential backoff and jitter, honouring Retry-After, up to the
//     policy's attempts; then the run fails and is dead-lettered, from where
//     Replay runs it again as a new run.
package workflow
