package jetstream

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
	"github.com/junctionhub/junction/core/store/storetest"
)

var (
	testKey = bytes.Repeat([]byte{5}, store.SecretKeySize)
	quiet   = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// harness runs the acceptance suite on n servers with the stream at n
// replicas. The servers of each test's dir survive the store, so the
// reopen test finds its data after Crash restarts them.
func harness(n int) storetest.Harness {
	var mu sync.Mutex
	clusters := map[string]*natstest.Cluster{}
	return storetest.Harness{
		Open: func(t *testing.T, dir string) store.Store {
			// Unlocked by defer: a Start that fails the test (t.Fatal
			// ends the goroutine) must not leave every later test
			// waiting on the lock.
			c := func() *natstest.Cluster {
				mu.Lock()
				defer mu.Unlock()
				c, ok := clusters[dir]
				if !ok {
					c = natstest.Start(t, dir, n, natstest.Options{})
					clusters[dir] = c
					t.Cleanup(func() {
						mu.Lock()
						delete(clusters, dir)
						mu.Unlock()
						c.Shutdown()
					})
				}
				return c
			}()
			return openOn(t, c, n)
		},
		Crash: func(t *testing.T, s store.Store) {
			mu.Lock()
			defer mu.Unlock()
			for _, c := range clusters {
				if c.Servers[0].Running() {
					c.Restart(t) // the servers lose their in-memory state; the store's client is cut off
				}
			}
			_ = s.Close()
		},
	}
}

func openOn(t testing.TB, c *natstest.Cluster, replicas int) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{URL: c.URL(), Replicas: replicas, SecretKey: testKey, Logger: quiet})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestAcceptanceR1(t *testing.T) {
	storetest.Run(t, harness(1))
}

func TestAcceptanceR3(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster")
	}
	// Every promise runs on R1 above; here the ones replication could
	// break (order, atomicity, CAS, read-your-writes through consumers, a
	// restart of the whole cluster), leaving out those that only wait for
	// clocks, to keep the package near a minute on a busy machine.
	h := harness(3)
	h.Only = []string{"AppendOrder", "AppendAtomic", "AppendWithKVAtomic", "ReadPagination", "Dedup",
		"SetNXConcurrent", "CompareAndSwapConcurrent", "GuardedWrite", "GuardedWriteConcurrent", "KVList", "RunsCreateAtomic", "RunsUpdate", "RunsList", "CrashReopen"}
	storetest.Run(t, h)
}
