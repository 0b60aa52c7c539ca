// Package tap lets an operator watch a connection or a workflow live: the
// events as they are logged and the runs as they finish
// (`junction tap`, GET /api/v1/tap, the console's live views).
//
// The hub publishes into a Broker on its hot paths (every acknowledged
// push, every fetched batch, every finished run), so publishing never
// blocks and costs one atomic load when nobody listens. Each subscriber has
// a bounded buffer; one that falls behind is dropped, and told why, rather
// than slowing ingest or holding memory. Messages are encoded to JSON once,
// and only when some subscriber wants them.
package tap

import (
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// DefaultBuffer is a subscriber's buffer when Subscribe is given none:
// what a busy connection logs while the stream lingers (sse.go), with room
// for a reader on a slow link. The messages share their encoded data, so a
// full buffer holds 4096 events' payloads once, whoever else watches.
const DefaultBuffer = 4096

// Kinds of Message.
const (
	KindEvent = "event"
	KindRun   = "run"
)

// Message is one thing a subscriber sees: Kind says which, Data is its JSON
// (an Event, or a store.Run).
type Message struct {
	Kind string
	Data []byte
}

// Event is an event as the tap shows it.
type Event struct {
	// ID is empty for records of a fetch: the fetch observer is told about
	// records, not their log entries.
	ID         string          `json:"id,omitempty"`
	Connection string          `json:"connection"`
	Type       string          `json:"type,omitempty"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Payload    json.RawMessage `json:"payload"`
}

// Filter says what a subscriber watches.
type Filter struct {
	// Connection: events logged on it, and (when Workflow is empty) runs
	// started by its events.
	Connection string
	// Workflow: its runs. Set Connection to its trigger connection to see
	// the events that start them too.
	Workflow string
}

func (f Filter) wantsEvent(connection string) bool {
	return f.Connection != "" && f.Connection == connection
}

func (f Filter) wantsRun(r *store.Run) bool {
	if f.Workflow != "" {
		return r.Workflow == f.Workflow
	}
	return f.Connection != "" && r.Connection == f.Connection
}

// Dropped reasons, as a subscriber reads them from Reason.
var (
	// ErrSlow: the subscriber's buffer was full when a message came.
	ErrSlow = errors.New("the reader fell behind and its buffer filled; reconnect to go on watching (messages in between are not replayed)")
	// ErrClosed: the hub is shutting down.
	ErrClosed = errors.New("the hub is shutting down")
)

// Subscriber receives the messages its filter selects until it is closed
// or dropped.
type Subscriber struct {
	b      *Broker
	filter Filter
	ch     chan Message
	done   chan struct{}
	once   sync.Once
	reason error
}

// Messages is the subscriber's buffer.
func (s *Subscriber) Messages() <-chan Message { return s.ch }

// Done is closed when the subscriber is closed or dropped; Reason then
// says why. Messages already buffered can still be read.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Reason is why the subscriber ended: ErrSlow, ErrClosed, or nil when its
// owner closed it. Valid after Done is closed.
func (s *Subscriber) Reason() error {
	<-s.done
	return s.reason
}

// Cap is the subscriber's buffer size.
func (s *Subscriber) Cap() int { return cap(s.ch) }

// Close unsubscribes. It is safe to call more than once and after a drop.
func (s *Subscriber) Close() { s.b.remove(s, nil) }

// end records why the subscriber ended; the first reason wins.
func (s *Subscriber) end(reason error) {
	s.once.Do(func() {
		s.reason = reason
		close(s.done)
	})
}

// Broker fans published messages out to subscribers.
type Broker struct {
	// n is the number of subscribers: the publish path reads only this
	// when nobody listens.
	n      atomic.Int32
	mu     sync.RWMutex
	subs   map[*Subscriber]struct{}
	closed bool
}

// New returns an empty broker.
func New() *Broker { return &Broker{subs: map[*Subscriber]struct{}{}} }

// Subscribe adds a subscriber with a buffer of buffer messages
// (DefaultBuffer when buffer <= 0).
func (b *Broker) Subscribe(f Filter, buffer int) (*Subscriber, error) {
	if f.Connection == "" && f.Workflow == "" {
		return nil, errors.New("tap: watch a connection or a workflow")
	}
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	s := &Subscriber{b: b, filter: f, ch: make(chan Message, buffer), done: make(chan struct{})}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	b.subs[s] = struct{}{}
	b.n.Store(int32(len(b.subs)))
	return s, nil
}

// Subscribers is how many are attached (metrics, tests).
func (b *Broker) Subscribers() int { return int(b.n.Load()) }

// Close ends every subscriber with ErrClosed and refuses new ones: a stream
// left open would hold up the HTTP server's graceful shutdown.
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		s.end(ErrClosed)
		delete(b.subs, s)
	}
	b.n.Store(0)
}

func (b *Broker) remove(s *Subscriber, reason error) {
	b.mu.Lock()
	if _, ok := b.subs[s]; ok {
		delete(b.subs, s)
		b.n.Store(int32(len(b.subs)))
	}
	b.mu.Unlock()
	s.end(reason)
}

// publish offers one message to every subscriber pick selects, encoding it
// at most once, and drops those whose buffer is full. It never blocks on a
// subscriber.
func (b *Broker) publish(kind string, pick func(Filter) bool, encode func() ([]byte, error)) {
	var (
		msg  Message
		slow []*Subscriber
	)
	b.mu.RLock()
	for s := range b.subs {
		if !pick(s.filter) {
			continue
		}
		if msg.Data == nil {
			data, err := encode()
			if err != nil {
				break // unencodable: nobody can be shown it
			}
			msg = Message{Kind: kind, Data: data}
		}
		select {
		case s.ch <- msg:
		default:
			slow = append(slow, s)
		}
	}
	b.mu.RUnlock()
	for _, s := range slow {
		b.remove(s, ErrSlow)
	}
}

// PublishAppended publishes the events of one stored push (duplicates were
// not logged, so they are not shown).
func (b *Broker) PublishAppended(reqs []store.AppendRequest, results []store.AppendResult, at time.Time) {
	if b.n.Load() == 0 {
		return
	}
	for i, res := range results {
		if res.Duplicate || i >= len(reqs) {
			continue
		}
		req := &reqs[i]
		b.publish(KindEvent, func(f Filter) bool { return f.wantsEvent(req.Connection) }, func() ([]byte, error) {
			return encodeEvent(Event{ID: res.ID, Connection: req.Connection, Type: req.Type, ReceivedAt: at, Payload: req.Payload})
		})
	}
}

// PublishRecord publishes one record a fetch appended.
func (b *Broker) PublishRecord(connection, entity string, payload []byte, at time.Time) {
	if b.n.Load() == 0 {
		return
	}
	b.publish(KindEvent, func(f Filter) bool { return f.wantsEvent(connection) }, func() ([]byte, error) {
		return encodeEvent(Event{Connection: connection, Type: entity, ReceivedAt: at, Payload: payload})
	})
}

// PublishRun publishes a run that finished. The engine owns r, and a
// replay may reuse it, so it is encoded before PublishRun returns.
func (b *Broker) PublishRun(r *store.Run) {
	if b.n.Load() == 0 {
		return
	}
	b.publish(KindRun, func(f Filter) bool { return f.wantsRun(r) }, func() ([]byte, error) { return json.Marshal(r) })
}
