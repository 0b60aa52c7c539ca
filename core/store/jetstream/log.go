package jetstream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

type jsLog Store

const (
	defaultReadLimit = 100
	maxReadLimit     = 10000
	// maxBatch is the server's limit on messages in one atomic batch.
	maxBatch = 1000
	// casRetries bounds how often an append re-plans after another node
	// wrote one of its dedup subjects first.
	casRetries = 8
)

// noDedup is the subject token of events without a dedup key.
const noDedup = "_"

// pending is one event of an Append: its message, or the result it
// already has when it is a duplicate.
type pending struct {
	req   store.AppendRequest
	body  []byte
	tok   string // dedup token, "" without a key
	until int64  // end of the dedup window, Unix ns
}

// Append implements store.Log: it returns once the stream acknowledged the
// events (on a replicated stream, once a quorum of servers holds them).
// One call is one atomic batch: all events or none.
func (l *jsLog) Append(ctx context.Context, reqs []store.AppendRequest) ([]store.AppendResult, error) {
	return (*Store)(l).append(ctx, reqs, nil)
}

// AppendWithKV implements store.Log: the KV writes ride in the same atomic
// batch as the events.
func (l *jsLog) AppendWithKV(ctx context.Context, reqs []store.AppendRequest, kv []store.KVWrite) ([]store.AppendResult, error) {
	return (*Store)(l).append(ctx, reqs, kv)
}

func (s *Store) append(ctx context.Context, reqs []store.AppendRequest, kv []store.KVWrite) ([]store.AppendResult, error) {
	if len(reqs) == 0 && len(kv) == 0 {
		return nil, nil
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	defer cancel()
	evs, err := s.prepareEvents(reqs)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	kvMsgs, err := s.kvMsgs(kv)
	if err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	for attempt := range casRetries {
		res, msgs, idx, err := s.planAppend(ctx, evs, attempt > 0)
		if err != nil {
			return nil, fmt.Errorf("append %d events: %w", len(reqs), err)
		}
		if err := s.guard(ctx, kv, kvMsgs); err != nil {
			return nil, fmt.Errorf("append %d events: %w", len(reqs), err)
		}
		msgs = append(msgs, kvMsgs...)
		if len(msgs) > maxBatch {
			return nil, fmt.Errorf("append %d events: %d messages, more than the %d of one atomic batch", len(reqs), len(msgs), maxBatch)
		}
		first, err := s.publish(ctx, msgs)
		if isWrongLast(err) {
			// Another node wrote a dedup subject or a guarded key since
			// they were read, or its write is still being replicated: a
			// moment, then read (a guarded key that changed fails then).
			if err := casPause(ctx, attempt); err != nil {
				return nil, fmt.Errorf("append %d events: %w", len(reqs), err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("append %d events: %w", len(reqs), err)
		}
		var top uint64
		for i := range res {
			if idx[i] >= 0 {
				res[i].Seq = first + uint64(idx[i])
				res[i].ID = event.FormatID(res[i].Seq)
				top = max(top, res[i].Seq)
			}
		}
		if top > 0 && s.lastSeq.raise(top) {
			s.signal()
		}
		return res, nil
	}
	return nil, fmt.Errorf("append %d events: dedup subjects kept changing under %d attempts", len(reqs), casRetries)
}

// casPause waits a little longer after each refused CAS: on a cluster the
// leader refuses a CAS on a subject whose previous write is still being
// replicated, and reading at once would find the subject unchanged.
func casPause(ctx context.Context, attempt int) error {
	if attempt == 0 {
		return nil // the first refusal is the "key seen before" case: read now
	}
	select {
	case <-time.After(time.Millisecond << attempt):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) prepareEvents(reqs []store.AppendRequest) ([]pending, error) {
	received := s.now().UTC()
	out := make([]pending, len(reqs))
	for i, r := range reqs {
		if r.Connection == "" {
			return nil, fmt.Errorf("event %d: empty connection", i)
		}
		if !store.ValidPayload(r.Payload) {
			return nil, fmt.Errorf("event %d of %s: payload is not valid JSON", i, r.Connection)
		}
		e := event.Event{Connection: r.Connection, Type: r.Type, DedupKey: r.DedupKey,
			ReceivedAt: received, OccurredAt: r.OccurredAt, Payload: r.Payload}
		p := pending{req: r, body: store.EncodeEvent(make([]byte, 0, 32+len(r.Connection)+len(r.Type)+len(r.DedupKey)+len(r.Payload)), &e)}
		if r.DedupKey != "" {
			w := r.DedupWindow
			if w <= 0 {
				w = store.DefaultDedupWindow
			}
			p.tok = dedupToken(r.Connection, r.DedupKey)
			p.until = received.Add(w).UnixNano()
		}
		out[i] = p
	}
	return out, nil
}

// planAppend decides which events are duplicates and builds the messages
// of the others. idx[i] is event i's position in msgs; for a duplicate of
// an event earlier in the same call it is that event's position, and -1
// for a duplicate of a stored event (whose result is filled in already).
// Each deduped message expects its subject's last sequence to be the one
// read here, so two nodes appending the same key cannot both succeed.
//
// Without read, every key is assumed new (expected last sequence 0),
// which saves the read in the common case; a key seen before makes the
// stream refuse the publish, and the caller plans again with read.
func (s *Store) planAppend(ctx context.Context, evs []pending, read bool) ([]store.AppendResult, []*nats.Msg, []int, error) {
	res := make([]store.AppendResult, len(evs))
	idx := make([]int, len(evs))
	var msgs []*nats.Msg
	inCall := map[string]int{}
	now := s.now().UnixNano()
	for i, p := range evs {
		m := nats.NewMsg(s.subj("ev", noDedup))
		m.Data = p.body
		if p.tok != "" {
			if j, ok := inCall[p.tok]; ok {
				idx[i], res[i].Duplicate = j, true
				continue
			}
			var last *jetstream.RawStreamMsg
			if read {
				var err error
				if last, err = s.getLast(ctx, s.subj("ev", p.tok)); err != nil {
					return nil, nil, nil, fmt.Errorf("read dedup key of event %d: %w", i, err)
				}
			}
			var lastSeq uint64
			if last != nil {
				until, _ := strconv.ParseInt(last.Header.Get(hdrUntil), 10, 64)
				if until > now {
					idx[i] = -1
					res[i] = store.AppendResult{ID: event.FormatID(last.Sequence), Seq: last.Sequence, Duplicate: true}
					continue
				}
				lastSeq = last.Sequence
			}
			m.Subject = s.subj("ev", p.tok)
			m.Header.Set(hdrUntil, strconv.FormatInt(p.until, 10))
			m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(lastSeq, 10))
			inCall[p.tok] = len(msgs)
		}
		idx[i] = len(msgs)
		msgs = append(msgs, m)
	}
	return res, msgs, idx, nil
}

// publish writes msgs as one unit and returns the stream sequence of the
// first; a batch's messages take consecutive sequences. One message is a
// plain publish with a message ID, so that the retry after a lost
// acknowledgement is recognised by the stream instead of stored twice;
// more are an atomic batch.
func (s *Store) publish(ctx context.Context, msgs []*nats.Msg) (uint64, error) {
	switch len(msgs) {
	case 0:
		return 0, nil
	case 1:
		msgs[0].Header.Set(jetstream.MsgIDHeader, nuid.Next())
		timedOut := false
		for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
			// Half the request timeout each, so that a lost
			// acknowledgement leaves time for the retry.
			actx, cancel := context.WithTimeout(ctx, s.to/2)
			ack, err := s.js.PublishMsg(actx, msgs[0])
			cancel()
			switch {
			case err == nil:
				return ack.Sequence, nil
			case ctx.Err() != nil:
				return 0, err
			case errors.Is(err, jetstream.ErrNoStreamResponse):
				// No leader to take it (one is being elected): nothing was
				// stored, and the same message ID makes the retry safe
				// even if it was. Retried until the request's deadline,
				// so an election does not reach the caller as an error.
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return 0, err
				}
			case (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout)) && !timedOut:
				timedOut = true
			default:
				return 0, err
			}
		}
	}
	select {
	case s.batches <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-s.batches }()
	for backoff := time.Millisecond; ; backoff *= 2 {
		ack, err := batchPublish(ctx, s.js, msgs)
		if err == nil {
			return ack.Sequence - ack.BatchSize + 1, nil
		}
		if !isTooManyInflight(err) || backoff > time.Second {
			return 0, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return 0, err
		}
	}
}

// Read implements store.Log in stream order (the stream sequence is the
// event's Seq; runs and KV writes leave gaps between events). A limit of
// zero or less means 100; at most 10000 events are returned.
func (l *jsLog) Read(ctx context.Context, after uint64, limit int) ([]event.Event, error) {
	s := (*Store)(l)
	if after == math.MaxUint64 {
		return nil, nil
	}
	if limit <= 0 {
		limit = defaultReadLimit
	}
	limit = min(limit, maxReadLimit)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("read log after %d: %w", after, err)
	}
	defer cancel()
	msgs, err := s.fetch(ctx, jetstream.ConsumerConfig{
		FilterSubject: s.subj("ev", ">"),
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   after + 1,
	}, limit)
	if err != nil {
		return nil, fmt.Errorf("read log after %d: %w", after, err)
	}
	out := make([]event.Event, 0, len(msgs))
	for _, m := range msgs {
		meta, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("read log after %d: %w", after, err)
		}
		e, err := store.DecodeEvent(meta.Sequence.Stream, m.Data())
		if err != nil {
			return nil, fmt.Errorf("read log after %d: %w", after, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Get implements store.Log.
func (l *jsLog) Get(ctx context.Context, id string) (event.Event, error) {
	s := (*Store)(l)
	seq, err := event.ParseID(id)
	if err != nil {
		return event.Event{}, fmt.Errorf("get event: %w (%w)", store.ErrNotFound, err)
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return event.Event{}, fmt.Errorf("get event %s: %w", id, err)
	}
	defer cancel()
	m, err := s.stream.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) || err == nil && !strings.HasPrefix(m.Subject, s.subj("ev", "")) {
		return event.Event{}, fmt.Errorf("get event %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return event.Event{}, fmt.Errorf("get event %s: %w", id, err)
	}
	e, err := store.DecodeEvent(seq, m.Data)
	if err != nil {
		return event.Event{}, fmt.Errorf("get event %s: %w", id, err)
	}
	return e, nil
}

// LastSeq implements store.Log: the newest event this node knows of, its
// own appends at once and other nodes' through the log tail.
func (l *jsLog) LastSeq() uint64 { return l.lastSeq.get() }

// Notify implements store.Log: signalled after this node's appends and
// when the tail sees another node's.
func (l *jsLog) Notify() <-chan struct{} { return l.notify }

// startLogTail loads the last event sequence, then follows new events
// (headers only) to keep it and Notify current across nodes.
func (s *Store) startLogTail(ctx context.Context) error {
	last, err := s.getLast(ctx, s.subj("ev", ">"))
	if err != nil {
		return fmt.Errorf("find the last event: %w", err)
	}
	if last != nil {
		s.lastSeq.raise(last.Sequence)
	}
	s.logTail, err = s.follow(ctx, "log", s.subj("ev", ">"), s.lastSeq.get()+1, func(_ jetstream.Msg, seq uint64) {
		if s.lastSeq.raise(seq) {
			s.signal()
		}
	})
	return err
}

// consumer creates an ephemeral pull consumer for one read: in memory,
// one replica, no acks, gone soon after its last use. On a cluster the
// server places such a consumer on any replica of the stream, and a
// follower may not have applied the newest acknowledged writes yet; so a
// consumer that did not land on the stream leader is deleted and made
// again, and reads through it see everything acknowledged before.
func (s *Store) consumer(ctx context.Context, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	cfg.AckPolicy = jetstream.AckNonePolicy
	cfg.MemoryStorage = true
	cfg.Replicas = 1
	cfg.InactiveThreshold = 5 * time.Second
	for attempt := 0; ; attempt++ {
		cons, err := s.createConsumer(ctx, cfg)
		if err != nil {
			return nil, err
		}
		info := cons.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return cons, nil // one server: nothing to lag behind
		}
		leader, err := s.streamLeader(ctx, info.Cluster.Leader)
		if err != nil {
			return nil, err
		}
		if info.Cluster.Leader == leader {
			return cons, nil
		}
		_ = s.stream.DeleteConsumer(ctx, info.Name)
		if attempt == 20 {
			return nil, fmt.Errorf("no consumer placed on the stream leader %s in %d attempts", leader, attempt+1)
		}
	}
}

func (s *Store) createConsumer(ctx context.Context, cfg jetstream.ConsumerConfig) (jetstream.Consumer, error) {
	for backoff := 5 * time.Millisecond; ; backoff *= 2 {
		cons, err := s.stream.CreateConsumer(ctx, cfg)
		if err == nil || !errors.Is(err, nats.ErrNoResponders) || backoff > 2*time.Second {
			return cons, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
	}
}

// streamLeader is the server leading the stream. The name is cached and
// asked again when a consumer's server differs from it, in case the
// leader changed.
func (s *Store) streamLeader(ctx context.Context, host string) (string, error) {
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	if s.leader != "" && s.leader == host {
		return s.leader, nil
	}
	info, err := s.stream.Info(ctx)
	if err != nil {
		return "", fmt.Errorf("find the stream leader: %w", err)
	}
	if info.Cluster != nil {
		s.leader = info.Cluster.Leader
	}
	return s.leader, nil
}

// reader reads what a consumer had pending when it was created: its
// creation tells how many messages match, so a fetch asks for no more and
// waits until they arrive. (A no-wait fetch on a consumer just created on
// a cluster can answer "no messages" before the consumer has loaded
// them.)
type reader struct {
	cons    jetstream.Consumer
	pending uint64
	wait    time.Duration
}

func (s *Store) newReader(ctx context.Context, cfg jetstream.ConsumerConfig) (*reader, error) {
	cons, err := s.consumer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &reader{cons: cons, pending: cons.CachedInfo().NumPending, wait: s.to}, nil
}

// next fetches up to n of the pending messages; none once all are read.
// On a cluster the consumer may live on another server whose interest in
// the pull request has not reached this client's server yet: "no
// responders" for a moment, retried.
func (r *reader) next(ctx context.Context, n int) ([]jetstream.Msg, error) {
	want := min(uint64(n), r.pending)
	if want == 0 {
		return nil, nil
	}
	for backoff := 5 * time.Millisecond; ; backoff *= 2 {
		batch, err := r.cons.Fetch(int(want), jetstream.FetchMaxWait(r.wait))
		var msgs []jetstream.Msg
		if err == nil {
			for m := range batch.Messages() {
				msgs = append(msgs, m)
				if meta, err := m.Metadata(); err == nil {
					r.pending = meta.NumPending
				}
			}
			err = batch.Error()
			if errors.Is(err, nats.ErrTimeout) || errors.Is(err, jetstream.ErrNoMessages) {
				err = nil // fewer than pending: removed since (retention)
				if len(msgs) == 0 {
					r.pending = 0
				}
			}
		}
		if err == nil || len(msgs) > 0 || !errors.Is(err, nats.ErrNoResponders) || backoff > 2*time.Second {
			return msgs, err
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
	}
}

// fetch reads up to n messages through a new consumer.
func (s *Store) fetch(ctx context.Context, cfg jetstream.ConsumerConfig, n int) ([]jetstream.Msg, error) {
	r, err := s.newReader(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return r.next(ctx, n)
}
