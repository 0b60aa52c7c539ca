package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/junctionhub/junction/core/event"
)

// Key prefixes; doc.go describes the layout.
const (
	prefixLog    = "log/"
	prefixDedup  = "dedup/"
	prefixRun    = "run/"
	prefixKV     = "kv/"
	prefixSecret = "secret/"

	prefixIdxStatus   = "ridx/s/"
	prefixIdxWorkflow = "ridx/w/"
	prefixIdxWfStatus = "ridx/ws/"
	prefixIdxDead     = "ridx/d/"
)

func logKey(seq uint64) []byte {
	k := make([]byte, len(prefixLog)+8)
	copy(k, prefixLog)
	binary.BigEndian.PutUint64(k[len(prefixLog):], seq)
	return k
}

func seqOfLogKey(k []byte) (uint64, error) {
	if len(k) != len(prefixLog)+8 || string(k[:len(prefixLog)]) != prefixLog {
		return 0, fmt.Errorf("malformed log key %q", k)
	}
	return binary.BigEndian.Uint64(k[len(prefixLog):]), nil
}

func dedupKey(connection, key string) []byte {
	return []byte(prefixDedup + connection + "/" + key)
}

// eventCodecV1 marks the first version of the event encoding.
const eventCodecV1 = 1

// encodeEvent renders an event without its ID and Seq (the key holds them).
// A compact binary form instead of JSON: the payload is already JSON and is
// copied as is, so the log neither re-validates nor escapes it on every
// append and read.
//
//	version byte
//	uvarint-prefixed connection, type, dedup key
//	varint received-at seconds, uvarint nanos
//	occurred-at: 0 (zero time) or 1 then varint seconds, uvarint nanos
//	payload (the rest)
func encodeEvent(dst []byte, e *event.Event) []byte {
	dst = append(dst, eventCodecV1)
	dst = appendString(dst, e.Connection)
	dst = appendString(dst, e.Type)
	dst = appendString(dst, e.DedupKey)
	dst = appendTime(dst, e.ReceivedAt)
	if e.OccurredAt.IsZero() {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		dst = appendTime(dst, e.OccurredAt)
	}
	return append(dst, e.Payload...)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = binary.AppendVarint(dst, t.Unix())
	return binary.AppendUvarint(dst, uint64(t.Nanosecond()))
}

var errCorrupt = errors.New("corrupt event record")

// decodeEvent parses what encodeEvent wrote. It copies everything out of v,
// which Badger owns.
func decodeEvent(seq uint64, v []byte) (event.Event, error) {
	e := event.Event{ID: event.FormatID(seq), Seq: seq}
	d := decoder{b: v}
	if d.byte() != eventCodecV1 {
		return e, fmt.Errorf("event %s: %w: unknown version", e.ID, errCorrupt)
	}
	e.Connection = d.string()
	e.Type = d.string()
	e.DedupKey = d.string()
	e.ReceivedAt = d.time()
	if d.byte() == 1 {
		e.OccurredAt = d.time()
	}
	if d.err {
		return e, fmt.Errorf("event %s: %w", e.ID, errCorrupt)
	}
	if len(d.b) > 0 {
		e.Payload = append([]byte(nil), d.b...)
	}
	return e, nil
}

// decoder reads the encoding; err is sticky so callers check it once.
type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.err = true
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err || n > uint64(len(d.b)) {
		d.err = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time {
	sec, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return time.Time{}
	}
	d.b = d.b[n:]
	nsec := d.uvarint()
	if d.err || nsec >= 1e9 {
		d.err = true
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
