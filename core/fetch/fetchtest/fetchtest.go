// Package fetchtest has the fake pull connector that the tests of package
// fetch and of its API share: per entity a list of records, paged by a cursor
// that is the decimal offset of the next record.
package fetchtest

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

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// Quiet is a logger that drops everything.
var Quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Source is a fake pull connector: per entity a list of records, paged by a
// cursor that is the decimal offset of the next record. It checks, from the
// connector's side, the contract of doc.go: when called with cursor C, all
// records before C are already in the log.
type Source struct {
	Mu    sync.Mutex // guards the fields a test changes while a job runs
	T     testing.TB
	Store store.Store
	Conn  string
	Total map[string]int
	Calls int
	// FailAt fails the FailAt-th call (1-based) with a retryable error; 0: never.
	FailAt int
	// Stuck answers More with no progress.
	Stuck bool
	// Block, when set, holds every Fetch until it is closed; Started gets
	// a value (if it has room) as each Fetch begins.
	Block, Started chan struct{}
	// Secret is what Configure was given; Accept is the secret the "remote
	// API" accepts ("" accepts any).
	Secret, Accept string
	// OnFetch, when set, runs at each call, outside the lock.
	OnFetch func(call int)
	// Meta is what Metadata answers.
	Meta *pluginsdk.MetadataResult
	// NoFetch makes the spec declare only the perform role.
	NoFetch bool
	seen    map[string]int // per entity: records the log must hold at the next call
}

// NewSource serves total records per entity for connection conn, checking
// the log of st.
func NewSource(t testing.TB, st store.Store, conn string, total map[string]int) *Source {
	return &Source{T: t, Store: st, Conn: conn, Total: total, seen: map[string]int{}}
}

func (s *Source) Spec() pluginsdk.Spec {
	roles := []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata}
	if s.NoFetch {
		roles = []string{pluginsdk.RolePerform}
	}
	sp := pluginsdk.Spec{Name: "fakepull", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Direction: pluginsdk.Inbound, Roles: roles}
	for _, e := range slices.Sorted(maps.Keys(s.Total)) {
		sp.Entities = append(sp.Entities, pluginsdk.Entity{Name: e})
	}
	return sp
}

func (s *Source) Configure(_ context.Context, c *pluginsdk.Context) error {
	s.Mu.Lock()
	defer s.Mu.Unlock()
	s.Secret = c.Auth.Secret
	return nil
}

func (s *Source) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	s.Mu.Lock()
	s.Calls++
	call := s.Calls
	hook, block, started := s.OnFetch, s.Block, s.Started
	s.Mu.Unlock()
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
	s.Mu.Lock()
	defer s.Mu.Unlock()
	if s.Accept != "" && s.Secret != s.Accept {
		return nil, pluginsdk.Errorf("401 from the source: credentials rejected")
	}
	if call == s.FailAt {
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
	if got := s.CountLogged(ctx, req.Entity); got < off || got < s.seen[req.Entity] {
		s.T.Errorf("Fetch(%s, cursor %d): only %d records in the log: the cursor came before its records", req.Entity, off, got)
	}
	if s.Stuck {
		return &pluginsdk.FetchResult{Cursor: req.Cursor, More: true}, nil
	}
	end := min(off+req.Limit, s.Total[req.Entity])
	res := &pluginsdk.FetchResult{Cursor: []byte(strconv.Itoa(end)), More: end < s.Total[req.Entity]}
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

func (s *Source) Metadata(context.Context) (*pluginsdk.MetadataResult, error) {
	return s.Meta, nil
}

// CountLogged counts this connection's records of entity in the log.
func (s *Source) CountLogged(ctx context.Context, entity string) int {
	n := 0
	var after uint64
	for {
		evs, err := s.Store.Log().Read(ctx, after, 1000)
		if err != nil {
			s.T.Error(err)
			return n
		}
		if len(evs) == 0 {
			return n
		}
		for _, e := range evs {
			if e.Connection == s.Conn && e.Type == entity {
				n++
			}
			after = e.Seq
		}
	}
}

// OpenStore opens a store in a temporary directory, closed at cleanup.
func OpenStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: Quiet, SecretKey: bytes.Repeat([]byte{3}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// NewConn configures impl as connection name with an api_key auth.
func NewConn(t testing.TB, name string, impl pluginsdk.Connector) *connector.Conn {
	t.Helper()
	cc := &config.Connection{Name: name, Connector: "fakepull", Auth: config.Auth{Type: "api_key", Secret: "yaml-secret"}}
	if err := impl.Configure(context.Background(), &pluginsdk.Context{Connection: name, Auth: pluginsdk.Auth{Type: "api_key", Secret: cc.Auth.Secret}}); err != nil {
		t.Fatal(err)
	}
	return &connector.Conn{Config: cc, Connector: impl, Spec: impl.Spec()}
}
