// Package lease gives one node at a time the right to do a piece of work
// (fire a schedule's slot, run a connection's fetch job), through the
// store's KV, so it holds across every node sharing one store. It is not a
// consensus of its own: the store's SetNX and CompareAndSwap are, on
// JetStream, CAS on a subject's last sequence decided by the stream leader.
//
// # How a lease works
//
//   - Acquire: the fencing token is taken first, by incrementing the
//     counter "leasetoken/<name>" with CompareAndSwap; then the lease key
//     "lease/<name>" is set with SetNX and a TTL to {owner, token, nonce};
//     then the counter is read again. If it moved past the token, the
//     winner takes a new token while it holds the key and writes it in by
//     CompareAndSwap. That is what makes tokens grow with every new
//     holder: a node that took token 5, stalled, and won the key after the
//     holder of token 6 finds the counter at 6 and holds with token 7.
//     (Giving the lease back instead, as an earlier version did, could
//     leave no holder at all when acquirers kept overtaking each other.)
//   - Renew: every TTL/3 the holder rewrites its own value with a fresh
//     TTL by CompareAndSwap from that exact value (the nonce makes it
//     unique to this acquisition), so only the holder can renew.
//   - Lost: a renewal that finds another value, or no successful renewal
//     for 2/3 of the TTL (the store is unreachable), cancels the lease's
//     context: the work stops before another node can take the lease over.
//   - Release: CompareAndSwap from the held value to nothing.
//   - A holder that dies stops renewing; its key expires after the TTL and
//     the next Acquire by any node wins.
//
// # Fencing
//
// A holder that lost its lease but did not notice yet (paused, cut off)
// may still write. Work that must not be overwritten by such a stale
// holder stores the token with what it writes and refuses a write whose
// token is lower than the stored one (FencedSet).
//
// On one node with Badger every Acquire of a free lease wins, so a single
// node behaves as before leases existed.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// DefaultTTL is how long a lease outlives its holder's last renewal.
const DefaultTTL = 15 * time.Second

// Options configures a Leaser.
type Options struct {
	KV store.KV
	// TTL of a lease: a dead holder's work is taken over after it. Default
	// DefaultTTL; at least one second (the stores count TTLs in seconds).
	TTL time.Duration
	// Owner names this node in lease values (for operators reading the
	// KV). Default: host name and process id.
	Owner  string
	Logger *slog.Logger
}

// Leaser acquires leases for one node.
type Leaser struct {
	o   Options
	log *slog.Logger

	mu   sync.Mutex
	held map[*Lease]struct{}
}

// New returns a Leaser.
func New(o Options) *Leaser {
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	o.TTL = max(o.TTL, time.Second)
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Leaser{o: o, log: o.Logger, held: map[*Lease]struct{}{}}
}

// TTL returns the lease TTL.
func (l *Leaser) TTL() time.Duration { return l.o.TTL }

// Key is the KV key of the lease called name; TokenKey its token counter.
func Key(name string) string      { return "lease/" + name }
func TokenKey(name string) string { return "leasetoken/" + name }

// value is what the lease key holds.
type value struct {
	Owner string `json:"owner"`
	Token uint64 `json:"token"`
	Nonce string `json:"nonce"`
}

// Lease is a held lease. Its Context ends when it is lost or released.
type Lease struct {
	l     *Leaser
	name  string
	token uint64
	raw   []byte
	ctx   context.Context
	stop  context.CancelCauseFunc
	done  chan struct{} // closed when the renewal loop has ended
	once  sync.Once
}

// ErrLost is the cause of a lease context that ended because the lease
// was lost (taken over, or not renewed in time).
var ErrLost = errors.New("lease lost")

// errReleased is the cause when the holder released it.
var errReleased = errors.New("lease released")

// Name returns the lease's name.
func (x *Lease) Name() string { return x.name }

// Token is the fencing token: higher than every earlier holder's.
func (x *Lease) Token() uint64 { return x.token }

// Context ends when the lease is lost or released; work under the lease
// runs in it (derived from the ctx given to Acquire).
func (x *Lease) Context() context.Context { return x.ctx }

// Acquire takes the lease called name if no one holds it. It returns nil
// and no error when another holder has it.
func (l *Leaser) Acquire(ctx context.Context, name string) (*Lease, error) {
	kv := l.o.KV
	if _, err := kv.Get(ctx, Key(name)); err == nil {
		return nil, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	token, err := l.nextToken(ctx, name)
	if err != nil {
		return nil, err
	}
	raw, err := l.value(name, token)
	if err != nil {
		return nil, err
	}
	set, err := kv.SetNX(ctx, Key(name), raw, l.o.TTL)
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	if !set {
		return nil, nil
	}
	cur, err := l.readToken(ctx, name)
	if err == nil && cur != token {
		// Someone took a later token: an acquirer that then lost the key
		// to this one, or a holder that came and went before this node's
		// SetNX. A token taken now, while this node holds the key and no
		// one else can, is higher than that holder's.
		token, raw, err = l.retoken(ctx, name, raw)
		if err == nil && raw == nil {
			return nil, nil // the key expired meanwhile and is not ours
		}
	}
	if err != nil {
		if _, rerr := kv.CompareAndSwap(context.WithoutCancel(ctx), Key(name), raw, nil, 0); rerr != nil {
			l.log.Warn("lease not given back; it expires after its TTL", "lease", name, "err", rerr)
		}
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	return l.hold(ctx, name, token, raw), nil
}

// value is what this node writes to the lease key for token: the nonce
// makes it unique to one acquisition, so only that one renews it.
func (l *Leaser) value(name string, token uint64) ([]byte, error) {
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	raw, err := json.Marshal(value{Owner: l.o.Owner, Token: token, Nonce: hex.EncodeToString(nonce)})
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	return raw, nil
}

// retoken gives the lease this node just won (its key holds held) a new
// token. It returns a nil value, and no error, when the key no longer
// holds held.
func (l *Leaser) retoken(ctx context.Context, name string, held []byte) (uint64, []byte, error) {
	token, err := l.nextToken(ctx, name)
	if err != nil {
		return 0, held, err
	}
	raw, err := l.value(name, token)
	if err != nil {
		return 0, held, err
	}
	ok, err := l.o.KV.CompareAndSwap(ctx, Key(name), held, raw, l.o.TTL)
	if err != nil {
		return 0, held, fmt.Errorf("take a later token: %w", err)
	}
	if !ok {
		return 0, nil, nil
	}
	return token, raw, nil
}

func (l *Leaser) readToken(ctx context.Context, name string) (uint64, error) {
	raw, err := l.o.KV.Get(ctx, TokenKey(name))
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read token: %w", err)
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("token counter %q: %w", raw, err)
	}
	return n, nil
}

// nextToken increments the lease's token counter by CompareAndSwap.
func (l *Leaser) nextToken(ctx context.Context, name string) (uint64, error) {
	for range 64 {
		raw, err := l.o.KV.Get(ctx, TokenKey(name))
		var cur uint64
		switch {
		case errors.Is(err, store.ErrNotFound):
			raw = nil
		case err != nil:
			return 0, fmt.Errorf("lease %s: read token: %w", name, err)
		default:
			if cur, err = strconv.ParseUint(string(raw), 10, 64); err != nil {
				return 0, fmt.Errorf("lease %s: token counter %q: %w", name, raw, err)
			}
		}
		next := cur + 1
		ok, err := l.o.KV.CompareAndSwap(ctx, TokenKey(name), raw, []byte(strconv.FormatUint(next, 10)), 0)
		if err != nil {
			return 0, fmt.Errorf("lease %s: take token: %w", name, err)
		}
		if ok {
			return next, nil
		}
	}
	return 0, fmt.Errorf("lease %s: token counter kept changing", name)
}

func (l *Leaser) hold(ctx context.Context, name string, token uint64, raw []byte) *Lease {
	lctx, stop := context.WithCancelCause(ctx)
	x := &Lease{l: l, name: name, token: token, raw: raw, ctx: lctx, stop: stop, done: make(chan struct{})}
	l.mu.Lock()
	l.held[x] = struct{}{}
	l.mu.Unlock()
	go x.renew()
	return x
}

// renew keeps the lease until it is lost, released or its context ends.
func (x *Lease) renew() {
	defer close(x.done)
	defer x.forget()
	ttl := x.l.o.TTL
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-x.ctx.Done():
			return
		case <-t.C:
		}
		rctx, cancel := context.WithTimeout(x.ctx, ttl/3)
		ok, err := x.l.o.KV.CompareAndSwap(rctx, Key(x.name), x.raw, x.raw, ttl)
		cancel()
		switch {
		case x.ctx.Err() != nil:
			return
		case err == nil && ok:
			lastOK = time.Now()
			continue
		case err == nil:
			x.l.log.Warn("lease taken over; stopping its work", "lease", x.name, "token", x.token)
			x.stop(ErrLost)
			return
		}
		if time.Since(lastOK) >= ttl*2/3 {
			x.l.log.Warn("lease not renewed in time; stopping its work", "lease", x.name, "token", x.token, "err", err)
			x.stop(ErrLost)
			return
		}
		x.l.log.Warn("lease renewal failed; retrying", "lease", x.name, "err", err)
	}
}

func (x *Lease) forget() {
	x.l.mu.Lock()
	delete(x.l.held, x)
	x.l.mu.Unlock()
}

// Lost reports whether the lease ended without its holder releasing it.
func (x *Lease) Lost() bool { return errors.Is(context.Cause(x.ctx), ErrLost) }

// Release gives the lease back (if still held) and ends its context.
func (x *Lease) Release(ctx context.Context) error {
	var err error
	x.once.Do(func() {
		lost := x.Lost()
		x.stop(errReleased)
		<-x.done
		if lost {
			return
		}
		if _, cerr := x.l.o.KV.CompareAndSwap(ctx, Key(x.name), x.raw, nil, 0); cerr != nil {
			err = fmt.Errorf("release lease %s: %w", x.name, cerr)
		}
	})
	return err
}

// Abandon stops renewing every lease this Leaser holds without releasing
// them, as a node that died would: their work stops and other nodes take
// them over once the TTL has passed. Tests use it to kill a holder.
func (l *Leaser) Abandon() {
	l.mu.Lock()
	held := make([]*Lease, 0, len(l.held))
	for x := range l.held {
		held = append(held, x)
	}
	l.mu.Unlock()
	for _, x := range held {
		x.once.Do(func() { x.stop(ErrLost) })
		<-x.done
	}
}

// Do runs fn under the lease called name if it can be acquired, and
// reports whether it ran. fn's context ends if the lease is lost; the
// lease is released when fn returns.
func (l *Leaser) Do(ctx context.Context, name string, fn func(ctx context.Context, token uint64) error) (bool, error) {
	x, err := l.Acquire(ctx, name)
	if err != nil || x == nil {
		return false, err
	}
	ferr := fn(x.Context(), x.Token())
	if err := x.Release(context.WithoutCancel(ctx)); err != nil {
		l.log.Warn("lease not released; it expires after its TTL", "lease", name, "err", err)
	}
	if ferr == nil && x.Lost() {
		ferr = fmt.Errorf("lease %s: %w", name, ErrLost)
	}
	return true, ferr
}

// ForgetDead deletes every lease in st when st is written by this process
// alone (Badger): any lease found there at start was held by a process
// that died, and waiting out its TTL would only delay the restarted
// node's work (a killed fetch's job record, a missed slot). On a shared
// store it does nothing: a lease there may be a live node's.
func ForgetDead(ctx context.Context, st store.Store) error {
	if !store.IsSingleProcess(st) {
		return nil
	}
	pairs, err := st.KV().List(ctx, "lease/", 0)
	if err != nil {
		return fmt.Errorf("list leases: %w", err)
	}
	for _, p := range pairs {
		if err := st.KV().Delete(ctx, p.Key); err != nil {
			return fmt.Errorf("forget lease %s: %w", p.Key, err)
		}
	}
	return nil
}
