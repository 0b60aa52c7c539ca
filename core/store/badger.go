package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Options configures Open.
type Options struct {
	// Logger receives the store's warnings and Badger's own warnings and
	// errors. Nil: slog.Default().
	Logger *slog.Logger
	// SecretKey is the 32-byte AES-256 key for secrets at rest. Nil: see
	// LoadSecretKey (JUNCTION_SECRET_KEY, else <dir>/secret.key).
	SecretKey []byte
	// GCInterval is how often the value log is garbage collected. Zero: 5m.
	GCInterval time.Duration
	// InMemory keeps everything in memory (tests only: nothing is durable).
	InMemory bool
	// MinFreeBytes is the free space kept on the data dir's file system:
	// below it, writes fail with ErrDiskFull (see diskguard.go). Zero:
	// DefaultMinFreeBytes.
	MinFreeBytes int64
	// Disk answers the disk guard; nil: the real file system.
	Disk Disk

	// now is the clock of the dedup window check; tests replace it.
	now func() time.Time
}

// Badger is the embedded Store. All writes go through one committer
// goroutine (see doc.go for why); reads use Badger read-only transactions.
type Badger struct {
	db     *badger.DB
	logger *slog.Logger
	key    []byte
	now    func() time.Time

	commit *committer
	counts *runCounts

	// closing guards reads against a concurrent Close: readers hold the read
	// lock while they use db, Close takes the write lock before closing it.
	closing   sync.RWMutex
	closed    bool
	closeOnce sync.Once
	closeErr  error
	stopGC    chan struct{}
	gcDone    chan struct{}
	trimDone  chan struct{}
}

var _ Store = (*Badger)(nil)

// Open opens (creating if needed) the store in dir.
func Open(ctx context.Context, dir string, opts Options) (*Badger, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	now := opts.now
	if now == nil {
		now = time.Now
	}
	if opts.GCInterval <= 0 {
		opts.GCInterval = 5 * time.Minute
	}

	key, err := secretKeyFor(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}

	bopts := serviceOptions(badger.DefaultOptions(dir), opts.InMemory).
		// Every acknowledged write must survive a crash: the committer
		// batches writes so that one sync covers many callers.
		WithSyncWrites(true).
		// The committer is the only writer, so there is nothing for
		// Badger to detect; tracking read sets would only cost time.
		WithDetectConflicts(false).
		WithMetricsEnabled(false).
		WithLogger(slogBadger{logger}).
		WithLoggingLevel(badger.WARNING)
	if opts.InMemory {
		bopts = bopts.WithDir("").WithValueDir("").WithInMemory(true)
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}

	b := &Badger{
		db:     db,
		logger: logger,
		key:    key,
		now:    now,
		stopGC: make(chan struct{}),
		gcDone: make(chan struct{}),
	}
	b.trimDone = make(chan struct{})
	lastSeq, err := b.recoverLastSeq()
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	b.counts, err = loadRunCounts(db)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	var guard *diskGuard
	if !opts.InMemory {
		guard = newDiskGuard(dir, opts.MinFreeBytes, opts.Disk)
	}
	b.commit = newCommitter(db, logger, now, lastSeq, b.counts, guard)
	go b.gcLoop(opts.GCInterval, opts.InMemory)
	if opts.InMemory {
		close(b.trimDone)
	} else {
		go b.trimLoop(dir, trimInterval, b.stopGC, b.trimDone)
	}
	return b, nil
}

// Log returns the inbound event log.
func (b *Badger) Log() Log { return (*badgerLog)(b) }

// Runs returns the workflow run store.
func (b *Badger) Runs() Runs { return (*badgerRuns)(b) }

// KV returns the key-value store.
func (b *Badger) KV() KV { return (*badgerKV)(b) }

// Secrets returns the encrypted secret store.
func (b *Badger) Secrets() Secrets { return (*badgerSecrets)(b) }

// Close commits the writes already queued, stops the background goroutines
// and closes Badger. It is safe to call more than once.
func (b *Badger) Close() error {
	b.closeOnce.Do(func() {
		b.commit.close()
		close(b.stopGC)
		<-b.gcDone
		<-b.trimDone
		b.closing.Lock()
		b.closed = true
		b.closeErr = b.db.Close()
		b.closing.Unlock()
		if b.closeErr != nil {
			b.closeErr = fmt.Errorf("close store: %w", b.closeErr)
		}
	})
	return b.closeErr
}

// view runs fn in a read-only transaction unless the store is closed.
func (b *Badger) view(fn func(txn *badger.Txn) error) error {
	b.closing.RLock()
	defer b.closing.RUnlock()
	if b.closed {
		return ErrClosed
	}
	return b.db.View(fn)
}

// gcLoop reclaims value-log space. Small values live in the LSM tree, so the
// value log only holds large payloads; still, without GC it grows forever.
func (b *Badger) gcLoop(every time.Duration, inMemory bool) {
	defer close(b.gcDone)
	if inMemory {
		<-b.stopGC
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-b.stopGC:
			return
		case <-t.C:
		}
		for {
			select {
			case <-b.stopGC:
				return
			default:
			}
			err := b.db.RunValueLogGC(0.5)
			if err == nil {
				continue // a file was rewritten: there may be more to reclaim
			}
			if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
				b.logger.Warn("store value log gc", "err", err)
			}
			break
		}
	}
}

// slogBadger adapts Badger's printf logger to slog. Badger is chatty at info
// level; only warnings and errors reach the log.
type slogBadger struct{ l *slog.Logger }

func (s slogBadger) Errorf(f string, a ...any) { s.l.Error(badgerMsg(f, a)) }

func (s slogBadger) Warningf(f string, a ...any) { s.l.Warn(badgerMsg(f, a)) }

func (s slogBadger) Infof(string, ...any) {}

func (s slogBadger) Debugf(string, ...any) {}

func badgerMsg(f string, a []any) string {
	return "badger: " + strings.TrimSpace(fmt.Sprintf(f, a...))
}
