package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The run queue (store.RunQueue): each queued run has a work message on
// <S>.work.<tok>, written in the same atomic batch as the run, and one
// durable pull consumer of those subjects, shared by every node, hands
// each message to one node at a time (doc.go, "Run queue").

// workConsumer names the durable consumer of the work subjects.
const workConsumer = "junction-work"

// DefaultClaimTimeout is the consumer's ack wait: how long a run claimed
// by a node that stopped confirming it (it died) waits before another
// node gets it.
const DefaultClaimTimeout = 10 * time.Second

var _ store.RunQueue = (*Store)(nil)

func (s *Store) workSubj(id string) string { return s.subj("work", token(id)) }

// openWorkQueue creates (or updates) the work consumer. It exists before
// any run is queued, and it delivers from the start of the stream, so a
// work message is never published where no consumer sees it.
func (s *Store) openWorkQueue(ctx context.Context) error {
	cons, err := s.stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable:       workConsumer,
		Description:   "Junction runs: each queued run to one node at a time",
		FilterSubject: s.subj("work", ">"),
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.claimTimeout,
		// A run is redelivered until it finishes, however often its node
		// dies; a run waiting for a retry is pending too (delayed nak),
		// so pending must not be capped: a cap would stall every node
		// once that many runs wait for a retry.
		MaxDeliver:    -1,
		MaxAckPending: -1,
	})
	if err != nil {
		return fmt.Errorf("create the work consumer: %w", err)
	}
	s.work = cons
	return nil
}

func workMsg(subj string) *nats.Msg {
	m := nats.NewMsg(subj)
	// One work message per run, ever: a second queueing of the same run
	// would replace a message some node may hold.
	m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
	return m
}

// CreateQueued implements store.RunQueue: the runs, the work messages of
// those queued and the KV writes are one atomic batch.
func (s *Store) CreateQueued(ctx context.Context, runs []*store.Run, kv []store.KVWrite) error {
	var work []*nats.Msg
	for _, r := range runs {
		if r != nil && r.Status == store.StatusQueued {
			work = append(work, workMsg(s.workSubj(r.ID)))
		}
	}
	return (*jsRuns)(s).create(ctx, runs, work, kv)
}

// Requeue implements store.RunQueue: one publish per run, expecting its
// work subject empty, so a run queued already keeps its message.
func (s *Store) Requeue(ctx context.Context, ids []string) (int, error) {
	n := 0
	for _, id := range ids {
		c, cancel, err := s.begin(ctx)
		if err != nil {
			return n, fmt.Errorf("requeue runs: %w", err)
		}
		_, err = s.js.PublishMsg(c, workMsg(s.workSubj(id)))
		cancel()
		if isWrongLast(err) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("requeue run %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

// ClaimTimeout implements store.RunQueue.
func (s *Store) ClaimTimeout() time.Duration { return s.claimTimeout }

// Claim implements store.RunQueue: one pull of one message, so a node
// takes a run only when a worker is free to execute it (a prefetched
// message would wait out its claim in a buffer and go to another node
// too).
func (s *Store) Claim(ctx context.Context, wait time.Duration) (store.RunClaim, error) {
	if s.isClosed() {
		return nil, store.ErrClosed
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err := s.work.Fetch(1, jetstream.FetchContext(fctx))
	if err != nil {
		if ctx.Err() == nil && fctx.Err() != nil || errors.Is(err, nats.ErrTimeout) {
			return nil, nil
		}
		return nil, fmt.Errorf("claim a run: %w", err)
	}
	for m := range batch.Messages() {
		meta, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("claim a run: %w", err)
		}
		toks := strings.Split(m.Subject(), ".")
		id, err := untoken(toks[len(toks)-1])
		if err != nil {
			// Not a work message this version writes: drop it, or it
			// comes back forever.
			_ = m.Term()
			return nil, fmt.Errorf("claim a run: work subject %q: %w", m.Subject(), err)
		}
		return &workClaim{s: s, m: m, id: id, seq: meta.Sequence.Stream}, nil
	}
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) &&
		!errors.Is(err, jetstream.ErrNoMessages) && ctx.Err() == nil {
		return nil, fmt.Errorf("claim a run: %w", err)
	}
	return nil, nil
}

// workClaim is a node's hold on one work message.
type workClaim struct {
	s   *Store
	m   jetstream.Msg
	id  string
	seq uint64
}

func (c *workClaim) RunID() string { return c.id }

// Run implements store.RunClaim. The run was written before its work
// message (the same atomic batch, or Requeue later), so a leader past the
// work message's sequence holds the run unless it expired.
func (c *workClaim) Run(ctx context.Context) (*store.Run, error) {
	ctx, cancel, err := c.s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", c.id, err)
	}
	defer cancel()
	r, err := c.s.getRunSeen(ctx, c.id, c.seq)
	if err != nil {
		return nil, fmt.Errorf("get run %s: %w", c.id, err)
	}
	return r, nil
}

// Extend resets the message's ack wait and flushes, so that an error
// means the server did not hear it (while the client reconnects, a publish
// is only buffered and would report nothing).
func (c *workClaim) Extend(ctx context.Context) error {
	if err := c.m.InProgress(); err != nil {
		return fmt.Errorf("extend claim on run %s: %w", c.id, err)
	}
	if err := c.s.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("extend claim on run %s: %w", c.id, err)
	}
	return nil
}

// Done deletes the work message, then acknowledges it. If the node dies
// in between, the server finds the message gone when the claim times out
// and drops it; if the delete fails, the claim times out and the run's
// next holder finds it finished and tries again.
func (c *workClaim) Done(ctx context.Context) error {
	ctx, cancel, err := c.s.begin(ctx)
	if err != nil {
		return fmt.Errorf("finish claim on run %s: %w", c.id, err)
	}
	defer cancel()
	if err := c.s.stream.DeleteMsg(ctx, c.seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return fmt.Errorf("finish claim on run %s: delete work message: %w", c.id, err)
	}
	if err := c.m.Ack(); err != nil {
		return fmt.Errorf("finish claim on run %s: %w", c.id, err)
	}
	return nil
}

// RetryAt naks the message with the delay until at: the server holds it
// and then hands it to whichever node pulls next.
func (c *workClaim) RetryAt(_ context.Context, at time.Time) error {
	var err error
	if d := time.Until(at); d > 0 {
		err = c.m.NakWithDelay(d)
	} else {
		err = c.m.Nak()
	}
	if err != nil {
		return fmt.Errorf("hand back run %s: %w", c.id, err)
	}
	return nil
}
