package fetchapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// The fake pull connector of package fetch's tests, with only what the API
// tests drive (package fetch's own copy also checks the commit contract).

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// source serves, per entity, a list of records paged by a cursor that is
// the decimal offset of the next record.
type source struct {
	mu      sync.Mutex
	st      store.Store
	conn    string
	total   map[string]int
	calls   int
	failAt  int // fail the failAt-th call (1-based); 0: never
	block   chan struct{}
	started chan struct{}
	secret  string // the secret Configure was given
	accept  string // the secret the "remote API" accepts ("" accepts any)
	meta    *pluginsdk.MetadataResult
}

func newSource(_ *testing.T, st store.Store, conn string, total map[string]int) *source {
	return &source{st: st, conn: conn, total: total}
}

func (s *source) Spec() pluginsdk.Spec {
	sp := pluginsdk.Spec{Name: "fakepull", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Direction: pluginsdk.Inbound,
		Roles: []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata}}
	for e := range s.total {
		sp.Entities = append(sp.Entities, pluginsdk.Entity{Name: e})
	}
	return sp
}

func (s *source) Configure(_ context.Context, c *pluginsdk.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.secret = c.Auth.Secret
	return nil
}

func (s *source) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	s.mu.Lock()
	s.calls++
	call := s.calls
	block, started := s.block, s.started
	s.mu.Unlock()
	if started != nil {
		select {
		case started <- struct{}{}:
		default:
		}
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.accept != "" && s.secret != s.accept {
		return nil, pluginsdk.Errorf("401 from the source: credentials rejected")
	}
	if call == s.failAt {
		return nil, pluginsdk.Retryable("source unavailable (call %d)", call)
	}
	off := 0
	if len(req.Cursor) > 0 {
		n, err := strconv.Atoi(string(req.Cursor))
		if err != nil {
			return nil, pluginsdk.Errorf("bad cursor %q", req.Cursor)
		}
		off = n
	}
	end := min(off+req.Limit, s.total[req.Entity])
	res := &pluginsdk.FetchResult{Cursor: []byte(strconv.Itoa(end)), More: end < s.total[req.Entity]}
	for i := off; i < end; i++ {
		p, _ := json.Marshal(map[string]any{
			"file": req.Entity + ".csv", "line": i + 2, "entity": req.Entity,
			"record": map[string]any{"id": strconv.Itoa(i), "email": fmt.Sprintf("u%d@example.com", i)},
		})
		res.Events = append(res.Events, pluginsdk.Event{Payload: p, DedupKey: req.Entity + "/" + strconv.Itoa(i)})
	}
	return res, nil
}

func (s *source) Metadata(context.Context) (*pluginsdk.MetadataResult, error) {
	return s.meta, nil
}

// countLogged counts this connection's records of entity in the log.
func (s *source) countLogged(ctx context.Context, entity string) int {
	n := 0
	var after uint64
	for {
		evs, err := s.st.Log().Read(ctx, after, 1000)
		if err != nil || len(evs) == 0 {
			return n
		}
		for _, e := range evs {
			if e.Connection == s.conn && e.Type == entity {
				n++
			}
			after = e.Seq
		}
	}
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{3}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newConn(t *testing.T, name string, impl pluginsdk.Connector) *connector.Conn {
	t.Helper()
	cc := &config.Connection{Name: name, Connector: "fakepull", Auth: config.Auth{Type: "api_key", Secret: "yaml-secret"}}
	if err := impl.Configure(context.Background(), &pluginsdk.Context{Connection: name, Auth: pluginsdk.Auth{Type: "api_key", Secret: cc.Auth.Secret}}); err != nil {
		t.Fatal(err)
	}
	return &connector.Conn{Config: cc, Connector: impl, Spec: impl.Spec()}
}

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
