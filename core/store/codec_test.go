package store

import (
	"bytes"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/event"
)

// FuzzEventCodec checks that any event round-trips and that decoding
// arbitrary bytes fails cleanly instead of panicking.
func FuzzEventCodec(f *testing.F) {
	f.Add("seg", "track", "m1", int64(1700000000), int64(0), []byte(`{"a":1}`))
	f.Add("", "", "", int64(-62135596800), int64(1), []byte(nil))
	f.Fuzz(func(t *testing.T, conn, typ, dedup string, sec, occ int64, payload []byte) {
		e := event.Event{
			Connection: conn, Type: typ, DedupKey: dedup,
			ReceivedAt: time.Unix(sec, 0).UTC(),
			Payload:    payload,
		}
		if occ != 0 {
			e.OccurredAt = time.Unix(occ, 123).UTC()
		}
		got, err := decodeEvent(7, encodeEvent(nil, &e))
		if err != nil {
			t.Fatalf("decode of an encoded event: %v", err)
		}
		if got.Connection != conn || got.Type != typ || got.DedupKey != dedup ||
			!got.ReceivedAt.Equal(e.ReceivedAt) || !got.OccurredAt.Equal(e.OccurredAt) ||
			!bytes.Equal(got.Payload, payload) || got.Seq != 7 || got.ID != event.FormatID(7) {
			t.Fatalf("round trip: got %+v, want %+v", got, e)
		}
		// The fuzzer's bytes as a record: an error or an event, never a panic.
		_, _ = decodeEvent(1, append([]byte{eventCodecV1}, payload...))
	})
}
