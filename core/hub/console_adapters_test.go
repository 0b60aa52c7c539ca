package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/server/console"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func openTestStore(t *testing.T) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: quietLog, SecretKey: bytes.Repeat([]byte{5}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openRecorder(t *testing.T, st store.Store, o stats.Options) *stats.Recorder {
	t.Helper()
	o.KV, o.Logger = st.KV(), quietLog
	rec, err := stats.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec
}

// appendObserved appends events to the log and tells rec, as the hook path does.
func appendObserved(t *testing.T, st store.Store, rec *stats.Recorder, at time.Time, reqs ...store.AppendRequest) {
	t.Helper()
	res, err := st.Log().Append(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	rec.ObserveAppended(reqs, res, at)
}

func logReq(conn, entity, payload string) store.AppendRequest {
	return store.AppendRequest{Connection: conn, Type: entity, Payload: []byte(payload)}
}

func TestConsoleStats(t *testing.T) {
	ctx := context.Background()
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 10, 15, 0, 0, 0, rome)
	st := openTestStore(t)
	// TopK 2: email's three distinct values overflow the sketch.
	r := openRecorder(t, st, stats.Options{Location: rome, TopK: 2, Now: func() time.Time { return now }})
	connected := now.Add(-72 * time.Hour)
	r.Connected("crm", connected)
	appendObserved(t, st, r, now.Add(-48*time.Hour),
		logReq("crm", "contacts", `{"id":1,"email":"a@x","country":"IT"}`),
		logReq("crm", "contacts", `{"id":2,"email":"b@x","country":"IT"}`))
	appendObserved(t, st, r, now.Add(-time.Hour),
		logReq("crm", "contacts", `{"id":3,"email":"c@x","country":""}`),
		logReq("crm", "orders", `{"id":9,"tags":["a"]}`),
		logReq("crm", "orders", `{"id":10,"tags":"b","note":"`+strings.Repeat("n", 130)+`"}`),
		logReq("other", "contacts", `{"id":100}`))
	r.SetMetadata("crm", &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{{
		Name: "contacts", DisplayName: "Contacts",
		Fields: []pluginsdk.Field{{Name: "email", DisplayName: "E-mail", APILabel: "Email", Type: "email", Required: true}},
	}}}, now)
	s := newConsoleStats(r, st.Log(), rome)

	cs, err := s.ConnectionStats(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	perDay := make([]console.DayCount, 7)
	for i := range perDay {
		perDay[i].Day = time.Date(2025, 3, 4+i, 0, 0, 0, 0, rome)
	}
	perDay[4].Records, perDay[6].Records = 2, 3
	// 15 cells (3 contacts x 3 fields, 2 orders x 3 fields), two empty:
	// a country and the first order's note.
	if q := cs.Quality; q == nil || math.Abs(*q-13.0/15) > 1e-9 {
		t.Errorf("quality = %v, want 13/15", q)
	}
	cs.Quality = nil
	want := &console.ConnectionStats{
		ConnectedAt: connected, LastRecordAt: now.Add(-time.Hour), TotalRecords: 5,
		Entities: []console.EntityCount{{Name: "contacts", Records: 3}, {Name: "orders", Records: 2}},
		PerDay:   perDay,
	}
	if !reflect.DeepEqual(cs, want) {
		t.Errorf("connection stats:\n got %+v\nwant %+v", cs, want)
	}

	es, err := s.EntityStats(ctx, "crm", "contacts")
	if err != nil {
		t.Fatal(err)
	}
	wantEntity := &console.EntityStats{
		Name: "contacts", DisplayName: "Contacts", Records: 3,
		Fields: []pluginsdk.Field{
			{Name: "email", DisplayName: "E-mail", APILabel: "Email", Type: "email", Required: true},
			{Name: "country", Type: "string"}, {Name: "id", Type: "number"},
		},
		Latest: []json.RawMessage{
			json.RawMessage(`{"id":3,"email":"c@x","country":""}`),
			json.RawMessage(`{"id":2,"email":"b@x","country":"IT"}`),
			json.RawMessage(`{"id":1,"email":"a@x","country":"IT"}`),
		},
	}
	if !reflect.DeepEqual(es, wantEntity) {
		t.Errorf("entity stats:\n got %+v\nwant %+v", es, wantEntity)
	}

	fieldTests := []struct {
		entity, field string
		want          console.FieldStats
		topLen        int
	}{
		{"contacts", "country", console.FieldStats{Field: pluginsdk.Field{Name: "country", Type: "string"}, Rows: 3, Values: 2, Distinct: 1,
			Top: []console.ValueCount{{Value: "IT", Count: 2}}}, 1},
		// Evicted values: the distinct count is unknown; the metadata
		// describes the field.
		{"contacts", "email", console.FieldStats{Field: pluginsdk.Field{Name: "email", DisplayName: "E-mail", APILabel: "Email", Type: "email", Required: true},
			Rows: 3, Values: 3}, 2},
		// An array is a value but never a top value: the top list does not
		// hold every value.
		{"orders", "tags", console.FieldStats{Field: pluginsdk.Field{Name: "tags", Type: "string"}, Rows: 2, Values: 2,
			Top: []console.ValueCount{{Value: "b", Count: 1}}}, 1},
		// A long value is cut in the sketch: values sharing the cut would
		// share a counter.
		{"orders", "note", console.FieldStats{Field: pluginsdk.Field{Name: "note", Type: "string"}, Rows: 2, Values: 1}, 1},
	}
	for _, tt := range fieldTests {
		t.Run(tt.entity+"."+tt.field, func(t *testing.T) {
			fs, err := s.FieldStats(ctx, "crm", tt.entity, tt.field)
			if err != nil {
				t.Fatal(err)
			}
			if len(fs.Top) != tt.topLen {
				t.Errorf("top = %v, want %d values", fs.Top, tt.topLen)
			}
			if tt.want.Top == nil {
				fs.Top = nil
			}
			if !reflect.DeepEqual(*fs, tt.want) {
				t.Errorf("field stats:\n got %+v\nwant %+v", *fs, tt.want)
			}
		})
	}

	missing := map[string]func() error{
		"connection": func() error { _, err := s.ConnectionStats(ctx, "nope"); return err },
		"entity":     func() error { _, err := s.EntityStats(ctx, "crm", "nope"); return err },
		"field":      func() error { _, err := s.FieldStats(ctx, "crm", "contacts", "nope"); return err },
	}
	for what, call := range missing {
		if err := call(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown %s: err = %v, want store.ErrNotFound", what, err)
		}
	}
}

// pullSource is a fake pull connector with one entity of three records,
// fetched in one batch; while gate is open (non-nil) Fetch waits on it.
type pullSource struct {
	roles []string
	gate  chan struct{}

	mu     sync.Mutex
	secret string // what Configure was given
}

func (p *pullSource) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "fakepull", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Direction: pluginsdk.Inbound,
		Roles: p.roles, Entities: []pluginsdk.Entity{{Name: "contacts"}}}
}

func (p *pullSource) Configure(_ context.Context, c *pluginsdk.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.secret = c.Auth.Secret
	return nil
}

func (p *pullSource) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	if p.gate != nil {
		select {
		case <-p.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	res := &pluginsdk.FetchResult{Cursor: []byte("end")}
	if string(req.Cursor) == "end" {
		return res, nil
	}
	for _, e := range []string{"a@x", "b@x", "c@x"} {
		res.Events = append(res.Events, pluginsdk.Event{Payload: []byte(`{"email":"` + e + `"}`), DedupKey: e})
	}
	return res, nil
}

func (p *pullSource) Metadata(context.Context) (*pluginsdk.MetadataResult, error) {
	return &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{{Name: "contacts", DisplayName: "Contacts",
		Fields: []pluginsdk.Field{{Name: "email", Type: "string"}}}}}, nil
}

func (p *pullSource) configuredSecret() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.secret
}

// waitJob waits until the newest job of connection has ended and returns it.
func waitJob(t *testing.T, r *fetch.Runner, connection string) fetch.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		jobs, err := r.Jobs(context.Background(), connection, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 1 && jobs[0].Done() {
			return jobs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the newest job of %s has not ended after 30s: %+v", connection, jobs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestConsoleOps(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	gate := make(chan struct{})
	fetchRoles := []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata}
	var opened []*pullSource // guarded by the manager: it opens one at a time
	conns, err := connector.NewManager(ctx, connector.ManagerOptions{
		Connections: []*config.Connection{
			{Name: "crm", Connector: "fakepull", Auth: config.Auth{Type: "api_key", Secret: "yaml-secret"}},
			{Name: "hooks", Connector: "fakepush"},
		},
		Open: func(_ context.Context, c *config.Connection) (connector.Opened, error) {
			p := &pullSource{roles: []string{pluginsdk.RoleReceive}}
			if c.Connector == "fakepull" {
				p = &pullSource{roles: fetchRoles, gate: gate}
				opened = append(opened, p)
			}
			return connector.Opened{Connector: p}, nil
		},
		Store: st, Logger: quietLog,
		AuthOverride: func(ctx context.Context, c *config.Connection, spec pluginsdk.Spec, yaml pluginsdk.Auth) (pluginsdk.Auth, error) {
			return storedAuth(ctx, st.Secrets(), c, spec, yaml)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conns.Close() })
	r := openRecorder(t, st, stats.Options{})
	runner, err := fetch.New(ctx, fetch.Options{Store: st, Lookup: conns.Get, Observer: r, Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Close() })
	ops, s := consoleOps{fetch: runner, conns: conns}, newConsoleStats(r, st.Log(), nil)

	msg, err := ops.Fetch(ctx, "crm")
	if err != nil || !strings.Contains(msg, "Fetch of crm started (job ") {
		t.Fatalf("Fetch = %q, %v", msg, err)
	}
	// The gate holds the first job: a second one is refused, naming it.
	var busy *fetch.ErrBusy
	if _, err := ops.Fetch(ctx, "crm"); !errors.As(err, &busy) || !strings.Contains(msg, busy.Job.ID) {
		t.Errorf("second Fetch: err = %v, want ErrBusy naming the job of %q", err, msg)
	}
	close(gate)
	if j := waitJob(t, runner, "crm"); j.Status != fetch.StatusCompleted || j.Records != 3 {
		t.Fatalf("fetch job %+v, want completed with 3 records", j)
	}
	es, err := s.EntityStats(ctx, "crm", "contacts")
	if err != nil || es.Records != 3 || len(es.Latest) != 3 || string(es.Latest[0]) != `{"email":"c@x"}` {
		t.Fatalf("entity after fetch: %+v, %v", es, err)
	}

	if msg, err := ops.FetchMetadata(ctx, "crm"); err != nil || !strings.Contains(msg, "Metadata fetch of crm started") {
		t.Fatalf("FetchMetadata = %q, %v", msg, err)
	}
	if j := waitJob(t, runner, "crm"); !j.MetadataOnly || j.Status != fetch.StatusCompleted {
		t.Fatalf("metadata job %+v", j)
	}
	if es, err := s.EntityStats(ctx, "crm", "contacts"); err != nil || es.DisplayName != "Contacts" {
		t.Errorf("entity after metadata: %+v, %v", es, err)
	}

	// Reconnect reopens the connector with the credentials stored since
	// the YAML (by the CLI's reconnect).
	if err := fetch.SaveReconnectAuth(ctx, st.Secrets(), "crm", pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "stored-secret"}); err != nil {
		t.Fatal(err)
	}
	if msg, err := ops.Reconnect(ctx, "crm"); err != nil || !strings.Contains(msg, "junction connection reconnect crm") {
		t.Fatalf("Reconnect = %q, %v", msg, err)
	}
	c, _ := conns.Get("crm")
	if len(opened) != 2 || c.Connector != opened[1] || opened[1].configuredSecret() != "stored-secret" {
		t.Errorf("after Reconnect: %d opens, current connector configured with %q; want a second one with the stored secret", len(opened), opened[len(opened)-1].configuredSecret())
	}

	failures := []struct {
		name string
		call func() (string, error)
		want error
	}{
		{"fetch unknown", func() (string, error) { return ops.Fetch(ctx, "nope") }, store.ErrNotFound},
		{"metadata unknown", func() (string, error) { return ops.FetchMetadata(ctx, "nope") }, store.ErrNotFound},
		{"reconnect unknown", func() (string, error) { return ops.Reconnect(ctx, "nope") }, store.ErrNotFound},
		{"fetch push-only", func() (string, error) { return ops.Fetch(ctx, "hooks") }, fetch.ErrNotFetchable},
		{"metadata push-only", func() (string, error) { return ops.FetchMetadata(ctx, "hooks") }, fetch.ErrNotFetchable},
	}
	for _, f := range failures {
		if msg, err := f.call(); !errors.Is(err, f.want) {
			t.Errorf("%s = %q, %v; want %v", f.name, msg, err, f.want)
		}
	}
}
