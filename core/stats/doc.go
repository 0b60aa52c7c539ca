// Package stats keeps the data overview of each connection, incrementally,
// as records are ingested: per connection (connected at, total records and
// entities, data quality, records per day for the last 7 days), per entity
// (created, last updated, rows, data quality, the connector's metadata
// table) and per field (inferred type, updated, rows, values, nulls, top
// values).
//
// # What is counted
//
// A record is an event payload, or for sftp/s3 import events
// ({"file", "line", "entity", "record": {...}}) its "record" under its
// "entity". Only top-level fields are counted. A cell (one field of one
// record) is null when the field is missing from the record, null, or ""
// (an empty CSV cell); data quality is the percentage of cells that are not.
// A field's type is the most frequent JSON type of its values.
//
// # Cost
//
// Observe does not decode the payload into a tree: it scans the top-level
// members of the JSON object (the store has validated it) and updates
// counters in place. Top values use the Space-Saving sketch with k counters
// per field (default 32), so memory per field is bounded whatever the number
// of distinct values; counts are exact while a field has at most k distinct
// values, and TopExact says so. Objects and arrays count as values but are
// not tracked as top values; long values are cut to 128 bytes.
//
// # Persistence
//
// Stats are saved to the store's KV ("stats/<connection>") every
// FlushInterval when they changed, and at Close, and loaded at Open, so
// they survive restarts. A crash loses at most the last interval's counts;
// the overview is a summary, not a ledger, so that trade keeps the per-record
// cost free of writes.
package stats
