package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options configures Open.
type Options struct {
	// URL lists the NATS servers (nats://host:4222, comma-separated). Not
	// used when Conn is set.
	URL string
	// Credentials is a NATS credentials file (user JWT and NKey seed).
	Credentials string
	// Conn, when set, is used instead of dialling URL; Close leaves it open.
	Conn *nats.Conn
	// Stream names the stream (and the first token of its subjects).
	// Empty: DefaultStream.
	Stream string
	// Replicas of the stream. Zero: DefaultReplicas. An existing stream is
	// updated to this count.
	Replicas int
	// SecretKey is the cluster's shared AES-256 key for secrets (every node
	// must have the same; JUNCTION_SECRET_KEY). Required.
	SecretKey []byte
	// ClaimTimeout is how long a run claimed from the run queue stays with
	// a node that stopped confirming it before another node gets it (the
	// work consumer's ack wait, shared by every node: the last node to
	// open sets it). Zero: DefaultClaimTimeout.
	ClaimTimeout time.Duration
	// Timeout bounds one request to the servers. Zero: 10s.
	Timeout time.Duration
	// Logger; nil: slog.Default().
	Logger *slog.Logger

	// now is the clock of dedup windows and KV expiry; tests replace it.
	now func() time.Time
	// tailCheck is how often each tail checks itself (tail.go); zero:
	// the package's tailCheck. Tests shorten it.
	tailCheck time.Duration
}

// DefaultStream is the stream's name when Options.Stream is empty.
const DefaultStream = "JUNCTION"

// DefaultReplicas keeps every acknowledged write on a quorum of three
// servers, so one server's loss loses nothing (doc.go).
const DefaultReplicas = 3

var streamName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Store is a store.Store kept in one JetStream stream.
type Store struct {
	nc     *nats.Conn
	ownNC  bool
	js     jetstream.JetStream
	stream jetstream.Stream
	name   string
	key    []byte
	log    *slog.Logger
	now    func() time.Time
	to     time.Duration

	lastSeq lastSeq
	notify  chan struct{}

	claimTimeout time.Duration
	tailCheck    time.Duration
	work         jetstream.Consumer // the run queue's consumer (queue.go)
	runs         *runIndex
	batches      chan struct{} // bounds atomic batches in flight (the server allows 50 per stream)

	leaderMu sync.Mutex
	leader   string // the stream leader's server name, when last asked

	health healthCache // Health's last answer (health.go)

	closeOnce sync.Once
	closed    chan struct{}
	stopTails []func()
	runTail   *tail // keeps runs current (runs.go)
	logTail   *tail // keeps lastSeq current (log.go)
}

var _ store.Store = (*Store)(nil)

// Open connects, creates or updates the stream and loads what each node
// keeps in memory (the run index, the last event sequence).
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if !streamName.MatchString(o.Stream) {
		return nil, fmt.Errorf("open jetstream store: stream name %q: want 1-64 letters, digits, '_' or '-'", o.Stream)
	}
	if o.Replicas == 0 {
		o.Replicas = DefaultReplicas
	}
	if o.Replicas < 1 || o.Replicas > 5 {
		return nil, fmt.Errorf("open jetstream store: replicas %d: want 1 to 5", o.Replicas)
	}
	if len(o.SecretKey) != store.SecretKeySize {
		return nil, fmt.Errorf("open jetstream store: secret key of %d bytes, want %d (set %s, the same on every node)", len(o.SecretKey), store.SecretKeySize, store.SecretKeyEnv)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.ClaimTimeout <= 0 {
		o.ClaimTimeout = DefaultClaimTimeout
	}
	if o.tailCheck <= 0 {
		o.tailCheck = tailCheck
	}
	s := &Store{claimTimeout: o.ClaimTimeout, tailCheck: o.tailCheck,
		name: o.Stream, key: append([]byte(nil), o.SecretKey...), log: o.Logger, now: o.now, to: o.Timeout,
		notify: make(chan struct{}, 1), closed: make(chan struct{}), batches: make(chan struct{}, 16),
	}
	s.nc = o.Conn
	if s.nc == nil {
		nc, err := connect(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("open jetstream store: %w", err)
		}
		s.nc, s.ownNC = nc, true
	}
	if err := s.open(ctx, o); err != nil {
		s.Close()
		return nil, fmt.Errorf("open jetstream store %s: %w", o.Stream, err)
	}
	return s, nil
}

func (s *Store) open(ctx context.Context, o Options) error {
	var err error
	if s.js, err = jetstream.New(s.nc, jetstream.WithDefaultTimeout(o.Timeout)); err != nil {
		return err
	}
	cfg := jetstream.StreamConfig{
		Name:     o.Stream,
		Subjects: []string{o.Stream + ".>"},
		Storage:  jetstream.FileStorage,
		Replicas: o.Replicas,
		// Retention is Junction's own (expiry.go): a stream-wide MaxAge or
		// MaxBytes would drop cursors, leases and unfinished runs too.
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardOld,
		MaxBytes:           -1,
		MaxMsgs:            -1,
		AllowRollup:        true,
		AllowMsgTTL:        true,
		AllowAtomicPublish: true,
		// Reads go to the stream leader, which has every acknowledged
		// write: a direct get may be answered by a lagging replica.
		AllowDirect: false,
		// Message IDs only make a publish retried after a lost
		// acknowledgement (within one request timeout) idempotent; the
		// server keeps every ID of the window in memory, so keep it short.
		Duplicates: 30 * time.Second,
	}
	if s.stream, err = s.createStream(ctx, cfg); err != nil {
		return fmt.Errorf("create stream (needs nats-server 2.12 or later with JetStream): %w", err)
	}
	// A stream just created on a cluster may still be electing its
	// leader: each step waits for it like createStream.
	if err := s.untilReady(ctx, s.verifySecretKey); err != nil {
		return err
	}
	if err := s.untilReady(ctx, s.openWorkQueue); err != nil {
		return err
	}
	if err := s.untilReady(ctx, s.startLogTail); err != nil {
		return err
	}
	return s.untilReady(ctx, func(ctx context.Context) error {
		s.runs = newRunIndex()
		return s.startRunTail(ctx)
	})
}

// untilReady runs step until it succeeds or fails other than transiently,
// for at most startupWait.
func (s *Store) untilReady(ctx context.Context, step func(context.Context) error) error {
	deadline := time.Now().Add(startupWait)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		err := step(ctx)
		if err == nil || !Transient(err) || time.Now().After(deadline) {
			return err
		}
		s.log.Info("jetstream store: waiting for the stream", "stream", s.name, "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return err
		}
	}
}

// startupWait bounds how long Open waits for a cluster that is still
// forming (no JetStream leader yet, or too few servers for the replicas).
const startupWait = time.Minute

// createStream creates or updates the stream, waiting while the cluster
// cannot answer yet: nodes of a cluster usually start together with
// Junction, and the servers elect their leaders in the first seconds.
func (s *Store) createStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	deadline := time.Now().Add(startupWait)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		st, err := s.js.CreateOrUpdateStream(ctx, cfg)
		if err == nil || !Transient(err) || time.Now().After(deadline) {
			return st, err
		}
		s.log.Info("jetstream store: waiting for the NATS cluster", "stream", cfg.Name, "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, err
		}
	}
}

// Transient reports an error of a cluster still forming or electing: the
// same request may succeed shortly.
func Transient(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 503: JetStream not ready; 10023: insufficient resources (too few
		// servers up yet for the replicas); 10008: cluster temporarily
		// unavailable; 10005: no suitable peers (one not yet seen online).
		return apiErr.Code == 503 || apiErr.ErrorCode == 10023 || apiErr.ErrorCode == 10008 || apiErr.ErrorCode == 10005
	}
	// ErrNoStreamResponse: a publish to a stream whose leader is still
	// being elected. Each step retried (untilReady) reads before it
	// writes, so a publish that landed after all is found, not repeated.
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) ||
		errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrNoStreamResponse)
}

// Log returns the inbound event log.
func (s *Store) Log() store.Log { return (*jsLog)(s) }

// Runs returns the run store.
func (s *Store) Runs() store.Runs { return (*jsRuns)(s) }

// KV returns the key-value store.
func (s *Store) KV() store.KV { return (*jsKV)(s) }

// Secrets returns the encrypted secret store.
func (s *Store) Secrets() store.Secrets { return (*jsSecrets)(s) }

// Close stops the tails and closes the connection it opened. Every write
// acknowledged before is in the stream already: there is nothing to flush.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		for _, stop := range s.stopTails {
			stop()
		}
		if s.ownNC {
			s.nc.Close()
		}
	})
	return nil
}

func (s *Store) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// begin checks a call may proceed and bounds it by the request timeout.
func (s *Store) begin(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if s.isClosed() {
		return nil, nil, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	c, cancel := context.WithTimeout(ctx, s.to)
	return c, cancel, nil
}

// Subjects. Every token that comes from a name is encoded (token), so a
// key with dots, spaces or wildcards stays one subject.
func (s *Store) subj(kind string, tokens ...string) string {
	return s.name + "." + kind + "." + strings.Join(tokens, ".")
}

var b32 = base32.HexEncoding.WithPadding(base32.NoPadding)

// token encodes one name segment as a subject token: '_' then base32hex,
// so an empty segment is still a token and no byte can be a separator or
// a wildcard.
func token(seg string) string { return "_" + b32.EncodeToString([]byte(seg)) }

func untoken(t string) (string, error) {
	if !strings.HasPrefix(t, "_") {
		return "", fmt.Errorf("malformed subject token %q", t)
	}
	b, err := b32.DecodeString(t[1:])
	return string(b), err
}

// keyTokens encodes a "/"-separated key one segment per token, so that a
// List by prefix can filter on whole segments server side.
func keyTokens(key string) []string {
	segs := strings.Split(key, "/")
	for i, seg := range segs {
		segs[i] = token(seg)
	}
	return segs
}

func keyOfTokens(toks []string) (string, error) {
	segs := make([]string, len(toks))
	for i, t := range toks {
		var err error
		if segs[i], err = untoken(t); err != nil {
			return "", err
		}
	}
	return strings.Join(segs, "/"), nil
}

// dedupToken names the subject of the events of one connection's dedup
// key. A hash keeps subjects short whatever the key's length.
func dedupToken(connection, key string) string {
	h := sha256.Sum256([]byte(connection + "\x00" + key))
	return hex.EncodeToString(h[:16])
}

// maxKeyLen keeps a key's subject well inside the protocol's line limit.
const maxKeyLen = 1024

// Header names.
const (
	hdrUntil    = "Jn-Until"   // end of an event's dedup window, Unix ns
	hdrExpires  = "Jn-Expires" // a KV value's expiry, Unix ns (the server's TTL removes it later)
	hdrDeleted  = "Jn-Deleted" // a KV or secret tombstone
	hdrStatus   = "Jn-Status"
	hdrWorkflow = "Jn-Workflow"
	hdrDead     = "Jn-Dead"
)

// getLast returns the newest message on subj from the stream leader, nil
// when there is none.
func (s *Store) getLast(ctx context.Context, subj string) (*jetstream.RawStreamMsg, error) {
	m, err := s.stream.GetLastMsgForSubject(ctx, subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// isWrongLast reports a failed expected-sequence check: someone else wrote
// the subject first.
func isWrongLast(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
			apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
	}
	return false
}

// redactURL drops a password or token from a server URL for messages.
func redactURL(u string) string {
	parts := strings.Split(u, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			if scheme := strings.Index(p, "://"); scheme >= 0 && scheme < at {
				parts[i] = p[:scheme+3] + "REDACTED" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}

// lastSeq is the newest event sequence this node knows of: raised by its
// own acknowledged appends and by the log tail (other nodes' appends).
type lastSeq struct {
	mu sync.Mutex
	v  uint64
}

func (l *lastSeq) get() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.v
}

func (l *lastSeq) raise(v uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v > l.v {
		l.v = v
		return true
	}
	return false
}

func (s *Store) signal() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// connect connects to o.URL, waiting up to startupWait while no server
// answers yet: NATS servers and Junction nodes usually start together, and
// a node that gave up at once would need restarting by hand. Any other
// error (bad credentials, a TLS failure) returns at once.
func connect(ctx context.Context, o Options) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name("junction"), nats.MaxReconnects(-1), nats.Timeout(o.Timeout)}
	if o.Credentials != "" {
		opts = append(opts, nats.UserCredentials(o.Credentials))
	}
	deadline := time.Now().Add(startupWait)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		nc, err := nats.Connect(o.URL, opts...)
		if err == nil {
			return nc, nil
		}
		if !errors.Is(err, nats.ErrNoServers) || time.Now().After(deadline) {
			return nil, fmt.Errorf("connect %s: %w", redactURL(o.URL), err)
		}
		if o.Logger != nil {
			o.Logger.Info("jetstream store: waiting for a NATS server", "url", redactURL(o.URL), "err", err)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return nil, fmt.Errorf("connect %s: %w", redactURL(o.URL), err)
		}
	}
}
