package jetstream

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A tail follows one kind of subject from every node's writes: the run
// index and the newest event sequence are kept current by tails. Each is an
// ordered consumer, which recreates itself after the errors it knows; but
// after a NATS server is killed it can also stop delivering with no error
// at all (seen in the cluster kill e2e: after the stream's leader was
// killed, one node's run tail went silent for good). So each tail checks
// itself: every tailCheck it notes the newest matching message on the
// stream, and if by the next check it has not delivered that far, it
// starts a new consumer from the last sequence it delivered.

// tailCheck is how often a tail checks itself against the stream.
const tailCheck = 10 * time.Second

type tail struct {
	s      *Store
	name   string // for logs: "runs", "log"
	filter string
	apply  func(m jetstream.Msg, seq uint64)
	every  time.Duration

	mu  sync.Mutex
	seq uint64 // newest stream sequence delivered
	cc  jetstream.ConsumeContext

	ctx  context.Context // ends at close, with any request of watch
	halt context.CancelFunc
	done chan struct{}
}

// follow starts a tail of filter at stream sequence from, headers only,
// calling apply for each message in stream order. Close stops it.
func (s *Store) follow(ctx context.Context, name, filter string, from uint64, apply func(m jetstream.Msg, seq uint64)) (*tail, error) {
	t := &tail{s: s, name: name, filter: filter, apply: apply, every: s.tailCheck, seq: from - 1, done: make(chan struct{})}
	t.ctx, t.halt = context.WithCancel(context.Background())
	if err := t.start(ctx); err != nil {
		t.halt()
		return nil, fmt.Errorf("follow %s: %w", name, err)
	}
	go t.watch()
	s.stopTails = append(s.stopTails, t.close)
	return t, nil
}

// start (re)creates the consumer from the sequence after the last one
// delivered. The previous consumer, if any, is stopped first; a message it
// still hands over is applied twice at worst, and applying is idempotent.
func (t *tail) start(ctx context.Context) error {
	t.mu.Lock()
	old := t.cc
	t.cc = nil
	from := t.seq + 1
	t.mu.Unlock()
	if old != nil {
		old.Stop()
	}
	cons, err := t.s.js.OrderedConsumer(ctx, t.s.name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{t.filter},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
		HeadersOnly:    true,
	})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		meta, err := m.Metadata()
		if err != nil {
			return
		}
		seq := meta.Sequence.Stream
		t.mu.Lock()
		if seq > t.seq {
			t.seq = seq
		}
		t.mu.Unlock()
		t.apply(m, seq)
	}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		t.s.log.Warn("jetstream store: tail of the stream", "tail", t.name, "err", err)
	}))
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.cc = cc
	t.mu.Unlock()
	return nil
}

func (t *tail) delivered() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq
}

// watch restarts the tail when it has not delivered, within one check
// period, a message the stream held at the start of that period.
func (t *tail) watch() {
	defer close(t.done)
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	var owed uint64 // newest matching sequence the tail had not delivered at the last check
	for {
		select {
		case <-t.ctx.Done():
			return
		case <-tick.C:
		}
		got := t.delivered()
		if owed > got {
			t.s.log.Warn("jetstream store: tail stalled; following again", "tail", t.name, "from_seq", got+1, "behind_seq", owed)
			ctx, cancel := context.WithTimeout(t.ctx, t.every)
			err := t.start(ctx)
			cancel()
			if err != nil {
				t.s.log.Warn("jetstream store: restart the tail", "tail", t.name, "err", err)
				continue // still owed: the next check tries again
			}
		}
		ctx, cancel := context.WithTimeout(t.ctx, t.every)
		last, err := t.s.getLast(ctx, t.filter)
		cancel()
		switch {
		case err != nil:
			// No answer (a leader being elected): keep what is owed.
		case last != nil && last.Sequence > t.delivered():
			owed = last.Sequence
		default:
			owed = 0
		}
	}
}

func (t *tail) close() {
	t.halt()
	<-t.done
	t.mu.Lock()
	cc := t.cc
	t.mu.Unlock()
	if cc != nil {
		cc.Stop()
	}
}
