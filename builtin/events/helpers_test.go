package events

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sort"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openStore opens a Badger store on disk in a temp dir.
func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: make([]byte, store.SecretKeySize),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st
}

// fakeConns is the hub's connections as the task sees them.
type fakeConns map[string]task.Connection

func (f fakeConns) Connection(n string) (task.Connection, bool) { c, ok := f[n]; return c, ok }

func (f fakeConns) Connections() []task.Connection {
	var out []task.Connection
	for _, c := range f {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func conn(name, connectorName string, entities ...string) task.Connection {
	c := task.Connection{Name: name, Connector: connectorName, Spec: pluginsdk.Spec{Name: connectorName}}
	for _, e := range entities {
		c.Spec.Entities = append(c.Spec.Entities, pluginsdk.Entity{Name: e})
	}
	return c
}

func testConns() fakeConns {
	return fakeConns{
		"partner": conn("partner", "sftp", "profiles", "orders"),
		"lake":    conn("lake", "s3", "profiles"),
		"shop":    conn("shop", "webhook"),
	}
}

// retimed is a store log whose events carry the receive times the test
// chose (by sequence) instead of the store clock's, so windows can be
// exact; everything else comes from the real log.
type retimed struct {
	store.Log
	at map[uint64]time.Time
}

func (r *retimed) Read(ctx context.Context, after uint64, limit int) ([]event.Event, error) {
	evs, err := r.Log.Read(ctx, after, limit)
	for i := range evs {
		if t, ok := r.at[evs[i].Seq]; ok {
			evs[i].ReceivedAt = t
		}
	}
	return evs, err
}

// ev is one event to append at a chosen receive time.
type ev struct {
	conn, typ string
	at        time.Time
	payload   string
}

// appendEvents appends evs in order (one event per append, as receptions
// are) and returns a log that reports their chosen times.
func appendEvents(t testing.TB, st store.Store, evs []ev) *retimed {
	t.Helper()
	r := &retimed{Log: st.Log(), at: map[uint64]time.Time{}}
	for _, e := range evs {
		res, err := st.Log().Append(context.Background(), []store.AppendRequest{{Connection: e.conn, Type: e.typ, Payload: json.RawMessage(e.payload)}})
		if err != nil {
			t.Fatal(err)
		}
		r.at[res[0].Seq] = e.at
	}
	return r
}

// newTestCollector is the executor over lg with a clock at now and a sleep
// that records instead of waiting.
func newTestCollector(lg eventLog, conns task.Connections, now time.Time, slept *[]time.Duration) *collector {
	return &collector{log: lg, conns: conns, now: func() time.Time { return now },
		sleep: func(_ context.Context, d time.Duration) error {
			if slept != nil {
				*slept = append(*slept, d)
			}
			return nil
		}}
}

// output is the task's output, decoded.
type output struct {
	Records    []json.RawMessage `json:"records"`
	Count      int               `json:"count"`
	Connection string            `json:"connection"`
	Entity     string            `json:"entity"`
	From       string            `json:"from"`
	To         string            `json:"to"`
}

func run(t testing.TB, x task.Executor, with string) (output, error) {
	t.Helper()
	raw, err := x.Execute(context.Background(), &task.Call{RunID: "run", Workflow: "wf", Task: "collect", Input: json.RawMessage(with), Attempt: 1})
	if err != nil {
		return output{}, err
	}
	var out output
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("output %s is not the documented JSON: %v", raw, err)
	}
	if len(out.Records) != out.Count {
		t.Fatalf("output has %d records and count %d", len(out.Records), out.Count)
	}
	return out, nil
}

// permanent checks that err is a permanent task error containing want.
func permanent(t *testing.T, err error, want string) {
	t.Helper()
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T), want a *pluginsdk.Error", err, err)
	}
	if pe.Retryable {
		t.Errorf("error %q is retryable, want permanent", pe.Message)
	}
	if !strings.Contains(pe.Message, want) {
		t.Errorf("error %q\nwant it to contain %q", pe.Message, want)
	}
}
