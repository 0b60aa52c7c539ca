// Package alert evaluates the configured alerts (kind: Alert) and sends
// their notices through a connection's action: a webhook `post` (a JSON
// body with a `text` field, which Slack and Teams incoming webhooks show,
// plus structured fields) or an smtp `send_email`.
//
// # Signals, never in the way of ingest
//
// The hub reports what happens (a run finished, a fetch job ended, a
// schedule slot was missed, a push was refused for its credentials) by
// calling the Engine's methods from the goroutines where it happens. Each
// call is a non-blocking send into one bounded channel; when the channel
// is full the signal is dropped and counted
// (junction_alert_signals_dropped_total), so a burst of failures can cost
// an alert some precision, never an ingest request its latency. One
// goroutine owns the evaluation: it handles signals as they come and, on a
// tick (default every second), re-evaluates every alert, which is how a
// window empties, the log lag (polled) is watched, and a cooldown ends.
//
// # Firing, grouping, cooldown, resolved
//
// An alert fires when its condition starts to hold: one notice, counting
// the occurrences that made it hold. While it keeps firing, further
// occurrences are grouped: at most one more notice per cooldown, counting
// what happened since the last one (and nothing when nothing did). When
// the condition clears, one "resolved" notice says how long it fired and
// how many occurrences it saw. An alert that fires again within the
// cooldown of its last notice is recorded but not announced, and then its
// resolution is not announced either: a flapping condition sends one
// notice per cooldown, not one per flap.
//
// Windowed conditions count occurrences in time buckets of a thirtieth of
// the window, so a window ends with that granularity.
//
// # Restarts and reloads
//
// Each alert's state (firing or not, since when, the window's buckets,
// the last notice) is kept in the store's KV under "alert/state/<name>"
// with a hash of its definition, and the recent notices under
// "alert/recent". A restart picks the state up: a firing alert whose
// condition still holds does not fire again, and one that cleared while
// Junction was down is resolved. Replace swaps the set of alerts (hot
// reload): an alert whose definition is unchanged keeps its state; a
// changed one starts afresh; a removed one's state is deleted.
//
// # Delivery
//
// Notices go out in order on one sender goroutine, each with the
// connection's retry for a retryable failure (three attempts), under an
// idempotency key of the alert and the notice's number, so a webhook
// target can drop a repeated delivery and an email keeps its Message-ID.
// A notice that cannot be delivered is logged, counted
// (junction_alert_notification_failures_total) and shown in the API; the
// alert's state does not wait for it.
package alert
