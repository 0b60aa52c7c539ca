// Package event defines the envelope every inbound record travels in, from the
// connector that received or fetched it, through the durable log, to the
// workflow runs it triggers.
package event

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Event is one record in the durable inbound log.
type Event struct {
	// ID is assigned by the log: "evt_" + the 16-hex-digit log sequence, so IDs
	// sort in log order.
	ID         string          `json:"id"`
	Seq        uint64          `json:"seq"`
	Connection string          `json:"connection"`
	Type       string          `json:"type,omitempty"`
	DedupKey   string          `json:"dedupKey,omitempty"`
	ReceivedAt time.Time       `json:"receivedAt"`
	OccurredAt time.Time       `json:"occurredAt,omitzero"`
	Payload    json.RawMessage `json:"payload"`
}

// FormatID renders the event ID for a log sequence number.
func FormatID(seq uint64) string { return fmt.Sprintf("evt_%016x", seq) }

// ParseID returns the log sequence of an event ID.
func ParseID(id string) (uint64, error) {
	if len(id) != 20 || id[:4] != "evt_" {
		return 0, fmt.Errorf("event id %q: want evt_ followed by 16 hex digits", id)
	}
	seq, err := strconv.ParseUint(id[4:], 16, 64)
	if err != nil {
		return 0, fmt.Errorf("event id %q: %w", id, err)
	}
	return seq, nil
}
