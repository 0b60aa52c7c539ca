package fetchapi

import (
	"context"
	"testing"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/fetch/fetchtest"
	"github.com/junctionhub/junction/core/store"
)

// The fake pull connector is package fetch's, shared through fetchtest.
var (
	newSource = fetchtest.NewSource
	openStore = fetchtest.OpenStore
	newConn   = fetchtest.NewConn
	quiet     = fetchtest.Quiet
)

func newRunner(t *testing.T, st store.Store, o fetch.Options, conns ...*connector.Conn) *fetch.Runner {
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
	r, err := fetch.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
