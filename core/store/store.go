// Package store keeps Junction's state: the durable inbound event log, workflow
// runs, a KV with TTL (dedup windows, cursors, schedules) and encrypted
// secrets. Store is an interface so that the log and run state can later move
// to a distributed engine; Badger (see Open) is the embedded default.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/junctionhub/junction/core/event"
)

// ErrNotFound is returned when a key, run or event does not exist.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by calls made after Close.
var ErrClosed = errors.New("store closed")

// Store is the whole persistent state of one Junction node.
type Store interface {
	Log() Log
	Runs() Runs
	KV() KV
	Secrets() Secrets
	Close() error
}

// AppendRequest is one event to append. When DedupKey is set and an event of
// the same connection with the same key was appended within DedupWindow, the
// event is not appended again.
type AppendRequest struct {
	Connection  string
	Type        string
	DedupKey    string
	DedupWindow time.Duration
	OccurredAt  time.Time
	Payload     json.RawMessage
}

// AppendResult tells what became of one AppendRequest.
type AppendResult struct {
	ID        string // event ID (the existing one's ID for a duplicate, when known)
	Seq       uint64
	Duplicate bool
}

// Log is the append-only inbound event log.
type Log interface {
	// Append writes the events and returns only after they are synced to
	// disk. Concurrent Appends share one sync (group commit). All events of
	// one call are committed atomically: all or none.
	Append(ctx context.Context, reqs []AppendRequest) ([]AppendResult, error)
	// AppendWithKV is Append plus KV writes committed in the same write
	// (a pull connector's cursor with the records it covers).
	AppendWithKV(ctx context.Context, reqs []AppendRequest, kv []KVWrite) ([]AppendResult, error)
	// Read returns up to limit events with Seq > after, in order.
	Read(ctx context.Context, after uint64, limit int) ([]event.Event, error)
	// Get returns one event by ID.
	Get(ctx context.Context, id string) (event.Event, error)
	// LastSeq is the sequence of the newest event (0 when empty).
	LastSeq() uint64
	// Notify returns a channel that receives a value (non-blocking send,
	// capacity 1) after each commit, so a reader can wait for new events.
	Notify() <-chan struct{}
}

// ErrConflict is returned by a write whose guarded KV write (KVWrite.Guard)
// found its key changed: nothing of the write was committed.
var ErrConflict = errors.New("conflict: a guarded key changed")

// KVWrite is one KV write committed with an append or with runs.
type KVWrite struct {
	Key   string
	Value []byte // nil deletes
	TTL   time.Duration
	// Guard makes the whole write (the events or runs and every KV write
	// of the call) conditional: it commits only while Key holds exactly
	// Expect (nil: absent or expired), else it fails with ErrConflict and
	// writes nothing. The dispatcher writes its cursor so: a node that
	// lost the dispatch lease without noticing cannot create runs for
	// events another node already dispatched.
	Guard  bool
	Expect []byte
}

// KV is a key-value store with optional TTL per key.
type KV interface {
	Get(ctx context.Context, key string) ([]byte, error) // ErrNotFound when absent or expired
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetNX sets key only if absent; it reports whether it set it.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	Delete(ctx context.Context, key string) error
	// CompareAndSwap writes next (with ttl) only while key holds exactly
	// old, and reports whether it did: of any number of nodes racing on one
	// key, one swap wins. A nil old means the key must be absent (or
	// expired); a nil next deletes the key. A lease renews and releases
	// with it, so only its holder can.
	CompareAndSwap(ctx context.Context, key string, old, next []byte, ttl time.Duration) (bool, error)
	// List returns the keys (and values) with the prefix, in key order.
	List(ctx context.Context, prefix string, limit int) ([]KVPair, error)
}

// KVPair is one key and its value.
type KVPair struct {
	Key   string
	Value []byte
}

// Secrets keeps values encrypted at rest (AES-256-GCM).
type Secrets interface {
	Put(ctx context.Context, name string, value []byte) error
	Get(ctx context.Context, name string) ([]byte, error) // ErrNotFound when absent
	Delete(ctx context.Context, name string) error
}
