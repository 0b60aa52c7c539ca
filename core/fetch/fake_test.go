package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// source is a fake pull connector: per entity a list of records, paged by a
// cursor that is the decimal offset of the next record. It checks, from the
// connector's side, the contract of doc.go: when called with cursor C, all
// records before C are already in the log.
type source struct {
	mu      sync.Mutex
	t       *testing.T
	st      store.Store
	conn    string
	total   map[string]int
	calls   int
	failAt  int  // fail the failAt-th call (1-based); 0: never
	stuck   bool // answer More with no progress
	block   chan struct{}
	started chan struct{}
	secret  string // the secret Configure was given
	accept  string // the secret the "remote API" accepts ("" accepts any)
	onFetch func(call int)
	seen    map[string]int // per entity: records the log must hold at the next call
	meta    *pluginsdk.MetadataResult
	noFetch bool
}

func newSource(t *testing.T, st store.Store, conn string, total map[string]int) *source {
	return &source{t: t, st: st, conn: conn, total: total, seen: map[string]int{}}
}

func (s *source) Spec() pluginsdk.Spec {
	roles := []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata}
	if s.noFetch {
		roles = []string{pluginsdk.RolePerform}
	}
	sp := pluginsdk.Spec{Name: "fakepull", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Direction: pluginsdk.Inbound, Roles: roles}
	for _, e := range slices.Sorted(maps.Keys(s.total)) {
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
	hook, block, started := s.onFetch, s.block, s.started
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
	if hook != nil {
		hook(call)
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
	// The contract: everything up to this cursor is durable now.
	if got := s.countLogged(ctx, req.Entity); got < off || got < s.seen[req.Entity] {
		s.t.Errorf("Fetch(%s, cursor %d): only %d records in the log: the cursor came before its records", req.Entity, off, got)
	}
	if s.stuck {
		return &pluginsdk.FetchResult{Cursor: req.Cursor, More: true}, nil
	}
	end := min(off+req.Limit, s.total[req.Entity])
	res := &pluginsdk.FetchResult{Cursor: []byte(strconv.Itoa(end)), More: end < s.total[req.Entity]}
	for i := off; i < end; i++ {
		p, _ := json.Marshal(map[string]any{
			"file": req.Entity + ".csv", "line": i + 2, "entity": req.Entity,
			"record": map[string]any{"id": strconv.Itoa(i), "email": fmt.Sprintf("u%d@example.com", i), "score": i % 7},
		})
		res.Events = append(res.Events, pluginsdk.Event{Payload: p, DedupKey: req.Entity + "/" + strconv.Itoa(i)})
	}
	s.seen[req.Entity] = end
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
		if err != nil {
			s.t.Error(err)
			return n
		}
		if len(evs) == 0 {
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
