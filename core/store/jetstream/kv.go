package jetstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

type jsKV Store

// tombstoneTTL is how long a delete marker stays: long enough for a reader
// that saw the old value to lose its CAS, then the subject is empty.
const tombstoneTTL = time.Minute

// kvMsg builds the message of one KV write on subj. Every write rolls the
// subject up (the server removes its older messages), so that a value
// whose TTL ends does not uncover an older one.
func (s *Store) kvMsg(subj string, value []byte, ttl time.Duration) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Header.Set(jetstream.MsgRollup, jetstream.MsgRollupSubject)
	if value == nil {
		m.Header.Set(hdrDeleted, "1")
		ttl = tombstoneTTL
	} else {
		m.Data = value
	}
	if ttl > 0 {
		if value != nil {
			m.Header.Set(hdrExpires, strconv.FormatInt(s.now().Add(ttl).UnixNano(), 10))
		}
		// The server's TTL is whole seconds (at least one); hdrExpires
		// keeps the exact end that reads check.
		m.Header.Set(jetstream.MsgTTLHeader, strconv.Itoa(int((ttl+time.Second-1)/time.Second))+"s")
	}
	return m
}

func checkKey(key string, ttl time.Duration) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case len(key) > maxKeyLen:
		return fmt.Errorf("key of %d bytes: longer than %d", len(key), maxKeyLen)
	case ttl < 0:
		return fmt.Errorf("key %q: negative TTL %s", key, ttl)
	}
	return nil
}

func (s *Store) kvSubj(key string) string { return s.subj("kv", keyTokens(key)...) }

func (s *Store) kvMsgs(kv []store.KVWrite) ([]*nats.Msg, error) {
	out := make([]*nats.Msg, 0, len(kv))
	for _, w := range kv {
		if err := checkKey(w.Key, w.TTL); err != nil {
			return nil, err
		}
		out = append(out, s.kvMsg(s.kvSubj(w.Key), w.Value, w.TTL))
	}
	return out, nil
}

// live reports whether a stored KV message holds a value now.
func (s *Store) live(h nats.Header) bool {
	if h.Get(hdrDeleted) != "" {
		return false
	}
	if exp := h.Get(hdrExpires); exp != "" {
		n, _ := strconv.ParseInt(exp, 10, 64)
		return n > s.now().UnixNano()
	}
	return true
}

// readValue returns the live value on subj and the subject's last
// sequence (0 when empty), for a CAS on it.
func (s *Store) readValue(ctx context.Context, subj string) ([]byte, uint64, error) {
	m, err := s.getLast(ctx, subj)
	if err != nil || m == nil {
		return nil, 0, err
	}
	if !s.live(m.Header) {
		return nil, m.Sequence, store.ErrNotFound
	}
	if m.Data == nil {
		m.Data = []byte{}
	}
	return m.Data, m.Sequence, nil
}

// Get implements store.KV.
func (k *jsKV) Get(ctx context.Context, key string) ([]byte, error) {
	s := (*Store)(k)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("kv get %q: %w", key, err)
	}
	defer cancel()
	if err := checkKey(key, 0); err != nil {
		return nil, fmt.Errorf("kv get: %w", err)
	}
	v, _, err := s.readValue(ctx, s.kvSubj(key))
	if err == nil && v == nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("kv get %q: %w", key, err)
	}
	return v, nil
}

// Set implements store.KV. A ttl of zero keeps the key until deleted.
func (k *jsKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if value == nil {
		value = []byte{}
	}
	if err := (*Store)(k).write(ctx, key, value, ttl); err != nil {
		return fmt.Errorf("kv set %q: %w", key, err)
	}
	return nil
}

// Delete implements store.KV. Deleting an absent key is not an error.
func (k *jsKV) Delete(ctx context.Context, key string) error {
	if err := (*Store)(k).write(ctx, key, nil, 0); err != nil {
		return fmt.Errorf("kv delete %q: %w", key, err)
	}
	return nil
}

func (s *Store) write(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if err := checkKey(key, ttl); err != nil {
		return err
	}
	_, err = s.publish(ctx, []*nats.Msg{s.kvMsg(s.kvSubj(key), value, ttl)})
	return err
}

// SetNX implements store.KV as a CAS on the key's subject: the write
// expects the subject's last sequence read just before, so of two nodes
// racing for an absent key exactly one wins.
func (k *jsKV) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	s := (*Store)(k)
	if value == nil {
		value = []byte{}
	}
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return false, fmt.Errorf("kv setnx %q: %w", key, err)
	}
	defer cancel()
	if err := checkKey(key, ttl); err != nil {
		return false, fmt.Errorf("kv setnx: %w", err)
	}
	subj := s.kvSubj(key)
	for attempt := range casRetries {
		if err := casPause(ctx, attempt); err != nil {
			return false, fmt.Errorf("kv setnx %q: %w", key, err)
		}
		v, seq, err := s.readValue(ctx, subj)
		if err == nil && v != nil {
			return false, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, fmt.Errorf("kv setnx %q: %w", key, err)
		}
		m := s.kvMsg(subj, value, ttl)
		m.Header.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(seq, 10))
		_, err = s.publish(ctx, []*nats.Msg{m})
		if isWrongLast(err) {
			continue // written since the read: read again
		}
		if err != nil {
			return false, fmt.Errorf("kv setnx %q: %w", key, err)
		}
		return true, nil
	}
	return false, fmt.Errorf("kv setnx %q: the key kept changing under %d attempts", key, casRetries)
}

// List implements store.KV. The filter narrows the scan to the prefix's
// whole segments; an ordered consumer delivering the last message per
// subject reads a consistent snapshot from the stream leader.
func (k *jsKV) List(ctx context.Context, prefix string, limit int) ([]store.KVPair, error) {
	s := (*Store)(k)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("kv list %q: %w", prefix, err)
	}
	defer cancel()
	filter := s.subj("kv", ">")
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		filter = s.subj("kv", append(keyTokens(prefix[:i]), ">")...)
	}
	var out []store.KVPair
	err = s.lastPerSubject(ctx, filter, false, func(m jetstream.Msg) error {
		toks := strings.Split(m.Subject(), ".")[2:]
		key, err := keyOfTokens(toks)
		if err != nil {
			return err
		}
		if strings.HasPrefix(key, prefix) && s.live(m.Headers()) {
			out = append(out, store.KVPair{Key: key, Value: append([]byte{}, m.Data()...)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("kv list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b store.KVPair) int { return strings.Compare(a.Key, b.Key) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// lastPerSubject calls fn with the newest message of every subject that
// matches filter, as the stream holds them now.
func (s *Store) lastPerSubject(ctx context.Context, filter string, headersOnly bool, fn func(jetstream.Msg) error) error {
	r, err := s.newReader(ctx, jetstream.ConsumerConfig{
		FilterSubject: filter,
		DeliverPolicy: jetstream.DeliverLastPerSubjectPolicy,
		HeadersOnly:   headersOnly,
	})
	if err != nil {
		return fmt.Errorf("create consumer: %w", err)
	}
	for {
		msgs, err := r.next(ctx, 1000)
		if err != nil {
			return fmt.Errorf("fetch: %w", err)
		}
		if len(msgs) == 0 {
			return nil
		}
		for _, m := range msgs {
			if err := fn(m); err != nil {
				return err
			}
		}
	}
}

type jsSecrets Store

func (s *Store) secretSubj(name string) string { return s.subj("secret", token(name)) }

// Put implements store.Secrets: the value is sealed with the cluster's key
// on this node, so the servers (and their disks and replication traffic)
// only ever see ciphertext.
func (x *jsSecrets) Put(ctx context.Context, name string, value []byte) error {
	s := (*Store)(x)
	sealed, err := store.SealSecret(s.key, name, value)
	if err == nil {
		err = s.putRaw(ctx, s.secretSubj(name), name, sealed)
	}
	if err != nil {
		return fmt.Errorf("put secret %q: %w", name, err)
	}
	return nil
}

func (s *Store) putRaw(ctx context.Context, subj, name string, v []byte) error {
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	if err := checkKey(name, 0); err != nil {
		return err
	}
	_, err = s.publish(ctx, []*nats.Msg{s.kvMsg(subj, v, 0)})
	return err
}

// Get implements store.Secrets.
func (x *jsSecrets) Get(ctx context.Context, name string) ([]byte, error) {
	s := (*Store)(x)
	ctx, cancel, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("get secret %q: %w", name, err)
	}
	defer cancel()
	sealed, _, err := s.readValue(ctx, s.secretSubj(name))
	if err == nil && sealed == nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get secret %q: %w", name, err)
	}
	v, err := store.OpenSecret(s.key, name, sealed)
	if err != nil {
		return nil, fmt.Errorf("get secret %q: %w", name, err)
	}
	return v, nil
}

// Delete implements store.Secrets.
func (x *jsSecrets) Delete(ctx context.Context, name string) error {
	s := (*Store)(x)
	if err := s.putRaw(ctx, s.secretSubj(name), name, nil); err != nil {
		return fmt.Errorf("delete secret %q: %w", name, err)
	}
	return nil
}

// verifySecretKey makes sure this node's secret key is the cluster's: the first
// node stores a value sealed with its key, and every node after must open
// it, so a node with another key fails at start instead of writing secrets
// no other node can read.
func (s *Store) verifySecretKey(ctx context.Context) error {
	const probe = "junction-secret-key-check"
	subj := s.subj("meta", "keycheck")
	for range casRetries {
		m, err := s.getLast(ctx, subj)
		if err != nil {
			return fmt.Errorf("read the key check: %w", err)
		}
		if m != nil {
			if _, err := store.OpenSecret(s.key, probe, m.Data); err != nil {
				return fmt.Errorf("secret key differs from the one this stream's secrets were sealed with (%s must be the same on every node): %w", store.SecretKeyEnv, err)
			}
			return nil
		}
		sealed, err := store.SealSecret(s.key, probe, []byte(probe))
		if err != nil {
			return err
		}
		msg := nats.NewMsg(subj)
		msg.Data = sealed
		msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0")
		if _, err := s.js.PublishMsg(ctx, msg); err != nil && !isWrongLast(err) {
			return fmt.Errorf("store the key check: %w", err)
		}
	}
	return errors.New("store the key check: the subject kept changing")
}

// batchPublish commits msgs as one atomic batch. The first message is not
// acknowledged on its own: one round trip for the whole batch.
func batchPublish(ctx context.Context, js jetstream.JetStream, msgs []*nats.Msg) (*jetstreamext.BatchAck, error) {
	return jetstreamext.PublishMsgBatch(ctx, js, msgs, jetstreamext.BatchFlowControl{AckFirst: false})
}

func isTooManyInflight(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == 10210
}
