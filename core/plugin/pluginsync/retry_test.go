package pluginsync_test

import (
	"context"
	"crypto/ed25519"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

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
	if msg := refused(b, p.ID()); msg != "" {
		t.Errorf("still listed as refused after installing: %q", msg)
	}
}
