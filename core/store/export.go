package store

import (
	"time"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// The functions below let another implementation of Store (see
// core/store/jetstream) share Badger's record formats and its sealing of
// secrets, so that an event or a secret reads the same whichever engine
// holds it, and one JUNCTION_SECRET_KEY opens secrets of either.

// EncodeEvent appends e, without its ID and Seq, in the log's compact
// binary form (see codec.go).
func EncodeEvent(dst []byte, e *event.Event) []byte { return encodeEvent(dst, e) }

// DecodeEvent parses what EncodeEvent wrote, giving it seq as its sequence
// and ID. It copies everything out of v.
func DecodeEvent(seq uint64, v []byte) (event.Event, error) { return decodeEvent(seq, v) }

// SealSecret encrypts a named secret as Secrets.Put does: AES-256-GCM under
// key, the name bound as additional data so that a value copied under
// another name does not open.
func SealSecret(key []byte, name string, value []byte) ([]byte, error) {
	return seal(key, value, secretAAD(name))
}

// OpenSecret decrypts what SealSecret sealed under the same name.
func OpenSecret(key []byte, name string, sealed []byte) ([]byte, error) {
	return unseal(key, sealed, secretAAD(name))
}

// ValidPayload reports whether an event payload is acceptable to Append:
// empty or valid JSON.
func ValidPayload(p []byte) bool { return len(p) == 0 || fields.Valid(p) }

// SweepEvery is how often an expirer applies p: Interval, else a tenth of
// the shortest duration, between 1s and 1m.
func (p RetentionPolicy) SweepEvery() time.Duration { return p.interval() }
