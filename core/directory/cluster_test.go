package directory

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

// clusterServices returns n directory services, each on its own client of
// one JetStream store, as n nodes of a cluster would have.
func clusterServices(t *testing.T, n int, dirs ...*config.Directory) []*Service {
	t.Helper()
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	out := make([]*Service, n)
	for i := range out {
		st, err := jetstream.Open(context.Background(), jetstream.Options{URL: c.URL(), Replicas: 1, SecretKey: make([]byte, store.SecretKeySize), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		out[i] = New(st, dirs)
		if !out[i].shared {
			t.Fatal("a JetStream store not seen as shared")
		}
	}
	return out
}

// TestDedupAcrossNodes: concurrent upserts of one new person, spread over
// three services sharing one JetStream store, leave one contact holding
// every input's embedded data, created exactly once.
func TestDedupAcrossNodes(t *testing.T) {
	cases := []struct {
		name   string
		rules  []string
		inputs func(i int) ContactInput
		n      int
	}{
		{"50 identifies of one new email", nil, func(i int) ContactInput {
			return ContactInput{Email: "New.Person@Example.com", Embedded: map[string]any{fmt.Sprint("k", i): "v"}}
		}, 50},
		{"one person through different rules", []string{"email", "phone"}, func(i int) ContactInput {
			in := ContactInput{Embedded: map[string]any{fmt.Sprint("k", i): "v"}}
			switch i % 3 {
			case 0:
				in.Email, in.Phone = "p@example.com", "+1 555 0100"
			case 1:
				in.Phone = "+15550100"
			case 2:
				in.Email, in.Phone = "p@example.com", "+15550100"
			}
			return in
		}, 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svcs := clusterServices(t, 3, dirCfg("crm", tc.rules...))
			ctx := context.Background()
			var created atomic.Int32
			var wg sync.WaitGroup
			for i := range tc.n {
				wg.Go(func() {
					_, c, err := svcs[i%len(svcs)].Upsert(ctx, "crm", tc.inputs(i))
					if err != nil {
						t.Errorf("upsert %d: %v", i, err)
					}
					if c {
						created.Add(1)
					}
				})
			}
			wg.Wait()
			for i, s := range svcs {
				if n, err := s.Count(ctx, "crm"); err != nil || n != 1 {
					t.Fatalf("node %d counts %d contacts (%v), want 1", i, n, err)
				}
			}
			if created.Load() != 1 {
				t.Errorf("%d upserts reported creating the contact, want 1", created.Load())
			}
			cs, _, err := svcs[0].ListContacts(ctx, "crm", 10, "")
			if err != nil || len(cs) != 1 {
				t.Fatalf("ListContacts = %d, %v", len(cs), err)
			}
			if len(cs[0].Embedded) != tc.n {
				t.Errorf("contact holds %d of %d inputs' embedded data: concurrent updates lost some", len(cs[0].Embedded), tc.n)
			}
		})
	}
}
