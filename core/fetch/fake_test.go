package fetch

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch/fetchtest"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// The fake pull connector lives in fetchtest, shared with fetchapi's tests.
var (
	newSource = fetchtest.NewSource
	openStore = fetchtest.OpenStore
	newConn   = fetchtest.NewConn
	quiet     = fetchtest.Quiet
)

// observed records what a Runner reports to its Observer.
type observed struct {
	mu       sync.Mutex
	entities map[string]int
	meta     *pluginsdk.MetadataResult
}

func (o *observed) Observe(connection, entity string, payload []byte, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.entities == nil {
		o.entities = map[string]int{}
	}
	o.entities[connection+"/"+entity]++
}

func (o *observed) SetMetadata(connection string, md *pluginsdk.MetadataResult, at time.Time) {
	o.mu.Lock()
	o.meta = md
	o.mu.Unlock()
}

func newRunner(t *testing.T, st store.Store, o Options, conns ...*connector.Conn) *Runner {
	t.Helper()
	o.Store, o.Logger = st, quiet
	o.Lookup = func(name string) (*connector.Conn, bool) {
		for _, c := range conns {
			if c.Name() == name {
				return c, true
			}
		}
		return nil, false
	}
	r, err := New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
