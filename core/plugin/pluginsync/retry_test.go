package pluginsync_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/junctionhub/junction/core/plugin/pluginsync"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// flakyBucket fails the first fails Gets, as a cluster electing a leader
// would answer (no answer in time).
type flakyBucket struct {
	jetstream.ObjectStore
	fails atomic.Int32
}

func (b *flakyBucket) Get(ctx context.Context, name string, opts ...jetstream.GetObjectOpt) (jetstream.ObjectResult, error) {
	if b.fails.Add(-1) >= 0 {
		return nil, nats.ErrTimeout
	}
	return b.ObjectStore.Get(ctx, name, opts...)
}

// TestFetchFailureRetried: an object the cluster did not serve in time is
// reported as refused, then installed once the cluster answers, without a
// new update to the bucket.
func TestFetchFailureRetried(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	bucket := openBucket(t, c, 1)
	pub, priv := key(t)
	signed := registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{pub}, RequireSignatures: true}

	flaky := &flakyBucket{ObjectStore: bucket}
	flaky.fails.Store(2)
	a := startNode(t, bucket, nil, signed)
	b := startNode(t, flaky, nil, signed)
	p := a.install(t, bucket, built(t, "greeter", "1.0.0", "v1", priv), signed)
	waitFor(t, "node b to report the failed fetch", func() bool { return refused(b, p.ID()) != "" })
	if msg := refused(b, p.ID()); !strings.Contains(msg, "fetch from the cluster") {
		t.Fatalf("refusal %q, want the fetch failure", msg)
	}
	waitFor(t, "node b to install greeter on a retry", func() bool { return installed(b, p.ID()) })
	// The registry lists the plugin a moment before apply clears the
	// refusal (InstallShared still removes its temporary copy), so the
	// refusal is waited for, not read once: under -race in CI that moment
	// was long enough to catch.
	waitFor(t, "node b to clear the refusal after installing", func() bool { return refused(b, p.ID()) == "" })
}

// stalledBucket's watch delivers what the bucket held when it began, then
// nothing: an ordered consumer gone silent without an error.
type stalledBucket struct {
	jetstream.ObjectStore
}

func (b stalledBucket) Watch(ctx context.Context, opts ...jetstream.WatchOpt) (jetstream.ObjectWatcher, error) {
	w, err := b.ObjectStore.Watch(ctx, opts...)
	if err != nil {
		return nil, err
	}
	out := make(chan *jetstream.ObjectInfo)
	go func() {
		defer close(out)
		for info := range w.Updates() {
			out <- info
			if info == nil {
				<-ctx.Done() // the initial pass is over: nothing more
				return
			}
		}
	}()
	return stalledWatcher{w, out}, nil
}

type stalledWatcher struct {
	jetstream.ObjectWatcher
	out chan *jetstream.ObjectInfo
}

func (w stalledWatcher) Updates() <-chan *jetstream.ObjectInfo { return w.out }

// TestResyncAfterSilentWatch: a node whose watch stopped delivering
// without an error still installs, and removes, what another node shared,
// by its periodic pass over the whole bucket; a put it refused is not
// fetched and refused again on every pass.
func TestResyncAfterSilentWatch(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	bucket := openBucket(t, c, 1)
	pub, priv := key(t)
	signed := registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{pub}, RequireSignatures: true}
	a := startNode(t, bucket, nil, signed)

	reg, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var logs syncLog
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pluginsync.Start(ctx, pluginsync.Options{Registry: reg, Bucket: stalledBucket{bucket}, Install: signed,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)), Resync: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	b := &node{reg: reg, sync: s}

	p := a.install(t, bucket, built(t, "greeter", "1.0.0", "v1", priv), signed)
	waitFor(t, "node b to install greeter without its watch", func() bool { return installed(b, p.ID()) })

	if _, err := a.reg.RemoveForm("greeter", "1.0.0", registry.KindWasm); err != nil {
		t.Fatal(err)
	}
	if held, err := pluginsync.Unpublish(context.Background(), bucket, p.ID()); err != nil || !held {
		t.Fatalf("Unpublish = %t, %v; want true", held, err)
	}
	waitFor(t, "node b to remove greeter without its watch", func() bool { return !installed(b, p.ID()) })

	// Signed by a key b does not trust: refused once, not on every pass.
	_, otherPriv := key(t)
	q := a.install(t, bucket, built(t, "stranger", "1.0.0", "v1", otherPriv), registry.InstallOptions{})
	waitFor(t, "node b to refuse stranger", func() bool { return refused(b, q.ID()) != "" })
	time.Sleep(time.Second) // five passes
	if n := strings.Count(logs.String(), "plugin from the cluster refused"); n != 1 {
		t.Errorf("stranger refused %d times in five passes, want once", n)
	}
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// slowBucket's watch times out its first fails tries, as a cluster still
// electing the bucket's leader does; err, when set, is returned instead.
type slowBucket struct {
	jetstream.ObjectStore
	fails   atomic.Int32
	tries   atomic.Int32
	refusal error
}

func (b *slowBucket) Watch(ctx context.Context, opts ...jetstream.WatchOpt) (jetstream.ObjectWatcher, error) {
	b.tries.Add(1)
	if b.refusal != nil {
		return nil, b.refusal
	}
	if b.fails.Add(-1) >= 0 {
		return nil, context.DeadlineExceeded
	}
	return b.ObjectStore.Watch(ctx, opts...)
}

// TestStartWaitsForTheCluster: Start tries the watch again while the
// cluster does not answer in time, and gives up at once on any other error.
func TestStartWaitsForTheCluster(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	bucket := openBucket(t, c, 1)
	slow := &slowBucket{ObjectStore: bucket}
	slow.fails.Store(2)
	startNode(t, slow, nil, registry.InstallOptions{})
	if n := slow.tries.Load(); n != 3 {
		t.Errorf("watch tried %d times, want 3 (two timeouts, then the watch)", n)
	}

	reg, err := registry.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	refusing := &slowBucket{ObjectStore: bucket, refusal: errors.New("permissions violation")}
	if _, err := pluginsync.Start(context.Background(), pluginsync.Options{Registry: reg, Bucket: refusing, Logger: quiet}); err == nil || refusing.tries.Load() != 1 {
		t.Errorf("Start with a refusing cluster: %v after %d tries, want an error after 1", err, refusing.tries.Load())
	}
}
