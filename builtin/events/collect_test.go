package events

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

var at = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

func clock(hms string) time.Time {
	t, err := time.Parse("2006-01-02T15:04:05.999999999Z", "2024-05-01T"+hms+"Z")
	if err != nil {
		panic(err)
	}
	return t
}

func fileEvent(file string, line int, entity, record string) string {
	return fmt.Sprintf(`{"file":%q,"line":%d,"entity":%q,"record":%s}`, file, line, entity, record)
}

// windowLog is a log with events of three connections around the window
// [09:00, 10:00), some appended out of receive order.
func windowLog(t *testing.T) eventLog {
	return appendEvents(t, openStore(t), []ev{
		{"partner", "profiles", clock("08:59:59.999"), fileEvent("/in/a.csv", 2, "profiles", `{"email":"before@x"}`)},
		{"partner", "profiles", clock("09:00:00"), fileEvent("/in/a.csv", 3, "profiles", `{"z":"first","a":"keeps order"}`)},
		{"shop", "order", clock("09:10:00"), `{"id": 1, "total": 9.5}`},
		{"partner", "orders", clock("09:20:00"), fileEvent("/in/o.ndjson", 1, "orders", `{"id":"A-1","n":2}`)},
		{"lake", "profiles", clock("09:30:00"), fileEvent("in/p.csv", 2, "profiles", `{"email":"lake@x"}`)},
		{"partner", "profiles", clock("09:40:00"), `{"note":"no record here"}`},
		{"partner", "profiles", clock("09:59:59.999"), fileEvent("/in/b.csv", 2, "profiles", `{}`)},
		// Committed after an event stamped later: placed by its own time.
		{"partner", "profiles", clock("09:59:30"), fileEvent("/in/b.csv", 3, "profiles", `{"email":"late@x"}`)},
		{"partner", "profiles", clock("10:00:00"), fileEvent("/in/b.csv", 4, "profiles", `{"email":"end@x"}`)},
		{"shop", "order", clock("09:50:00"), `{"id":2}`},
		{"shop", "ping", clock("09:55:00"), `[1,2]`},
		{"partner", "profiles", clock("10:00:30"), fileEvent("/in/b.csv", 5, "profiles", `{"email":"after@x"}`)},
	})
}

func TestCollectWindow(t *testing.T) {
	x := newTestCollector(windowLog(t), testConns(), at.Add(time.Hour), nil)
	tests := []struct {
		name string
		with string
		want []string // records, exactly as exported
	}{
		{"a file connection's records, start in, end out, late commit placed by time",
			`{"connection":"partner","window":"1h","at":"2024-05-01T10:00:00Z"}`,
			[]string{`{"z":"first","a":"keeps order"}`, `{"id":"A-1","n":2}`, `{"note":"no record here"}`, `{}`, `{"email":"late@x"}`}},
		{"one entity",
			`{"connection":"partner","entity":"orders","window":"1h","at":"2024-05-01T10:00:00Z"}`,
			[]string{`{"id":"A-1","n":2}`}},
		{"with the source file and line",
			`{"connection":"partner","entity":"profiles","window":"1h","at":"2024-05-01T10:00:00Z","include_source":true}`,
			[]string{`{"_file":"/in/a.csv","_line":3,"z":"first","a":"keeps order"}`, `{"note":"no record here"}`,
				`{"_file":"/in/b.csv","_line":2}`, `{"_file":"/in/b.csv","_line":3,"email":"late@x"}`}},
		{"a shorter window",
			`{"connection":"partner","window":"30m","at":"2024-05-01T10:00:00Z"}`,
			[]string{`{"note":"no record here"}`, `{}`, `{"email":"late@x"}`}},
		{"the next window",
			`{"connection":"partner","window":"1h","at":"2024-05-01T11:00:00Z"}`,
			[]string{`{"email":"end@x"}`, `{"email":"after@x"}`}},
		{"s3 events",
			`{"connection":"lake","window":"1h","at":"2024-05-01T10:00:00+00:00"}`,
			[]string{`{"email":"lake@x"}`}},
		{"other connections: whole payloads, non-objects wrapped",
			`{"connection":"shop","window":"1h","at":"2024-05-01T12:00:00+02:00"}`,
			[]string{`{"id": 1, "total": 9.5}`, `{"id":2}`, `{"payload":[1,2]}`}},
		{"an empty window",
			`{"connection":"shop","window":"1h","at":"2024-05-01T09:00:00Z"}`,
			nil},
		{"the default window is an hour, limit as text",
			`{"connection":"lake","at":"2024-05-01T10:00:00Z","limit":"5"}`,
			[]string{`{"email":"lake@x"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(t, x, tt.with)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range out.Records {
				got = append(got, string(r))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if out.Records == nil {
				t.Error(`records is null, want [] (an export needs a list)`)
			}
		})
	}
}

func TestCollectOutputBounds(t *testing.T) {
	x := newTestCollector(windowLog(t), testConns(), at.Add(time.Hour), nil)
	raw, err := x.Execute(context.Background(), &task.Call{Input: json.RawMessage(`{"connection":"partner","entity":"orders","window":"90m","at":"2024-05-01T12:00:00+02:00"}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"records":[{"id":"A-1","n":2}],"count":1,"connection":"partner","entity":"orders","from":"2024-05-01T08:30:00Z","to":"2024-05-01T10:00:00Z"}`
	if string(raw) != want {
		t.Errorf("output\n%s\nwant\n%s", raw, want)
	}
}

// TestCollectIsDeterministic re-runs a window after more events arrived, as
// a retry or a crash resume of the same scheduled run does.
func TestCollectIsDeterministic(t *testing.T) {
	st := openStore(t)
	base := []ev{
		{"partner", "profiles", clock("09:15:00"), fileEvent("/in/a.csv", 2, "profiles", `{"n":"1"}`)},
		{"partner", "profiles", clock("09:45:00"), fileEvent("/in/a.csv", 3, "profiles", `{"n":"2"}`)},
	}
	lg := appendEvents(t, st, base)
	x := newTestCollector(lg, testConns(), at.Add(5*time.Second), nil)
	with := `{"connection":"partner","window":"1h","at":"2024-05-01T10:00:00Z"}`
	first, err := x.Execute(context.Background(), &task.Call{Input: json.RawMessage(with)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []ev{
		{"partner", "profiles", clock("10:00:01"), fileEvent("/in/a.csv", 4, "profiles", `{"n":"3"}`)},
		{"partner", "profiles", clock("10:30:00"), fileEvent("/in/a.csv", 5, "profiles", `{"n":"4"}`)},
	} {
		more := appendEvents(t, st, []ev{e})
		for seq, tm := range more.at {
			lg.at[seq] = tm
		}
	}
	again, err := x.Execute(context.Background(), &task.Call{Input: json.RawMessage(with), Attempt: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Errorf("second run of the same window differs:\n%s\n%s", first, again)
	}
}

// TestCollectWithTheStoreClock uses the receive times the store itself
// stamps.
func TestCollectWithTheStoreClock(t *testing.T) {
	st := openStore(t)
	before := time.Now().UTC().Add(-time.Millisecond)
	for i := range 3 {
		if _, err := st.Log().Append(context.Background(), []store.AppendRequest{{Connection: "shop", Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}}); err != nil {
			t.Fatal(err)
		}
	}
	after := time.Now().UTC().Add(time.Millisecond)
	var slept []time.Duration
	x := newTestCollector(st.Log(), testConns(), after, &slept)
	out, err := run(t, x, fmt.Sprintf(`{"connection":"shop","window":"1m","at":%q}`, after.Format(time.RFC3339Nano)))
	if err != nil || out.Count != 3 {
		t.Fatalf("window ending after the appends: %+v, %v; want 3 records", out, err)
	}
	if len(slept) != 1 || slept[0] != Settle {
		t.Errorf("slept %v, want %v: the window just ended", slept, Settle)
	}
	out, err = run(t, x, fmt.Sprintf(`{"connection":"shop","window":"1m","at":%q}`, before.Format(time.RFC3339Nano)))
	if err != nil || out.Count != 0 {
		t.Fatalf("window ending before the appends: %+v, %v; want none", out, err)
	}
}

func TestCollectWaitsOnlyForAFreshWindow(t *testing.T) {
	lg := appendEvents(t, openStore(t), nil)
	tests := []struct {
		now  time.Time
		want []time.Duration
	}{
		{at, []time.Duration{Settle}},
		{at.Add(500 * time.Millisecond), []time.Duration{Settle - 500*time.Millisecond}},
		{at.Add(Settle), nil},
		{at.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		var slept []time.Duration
		x := newTestCollector(lg, testConns(), tt.now, &slept)
		if _, err := run(t, x, `{"connection":"shop","at":"2024-05-01T10:00:00Z"}`); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(slept) != fmt.Sprint(tt.want) {
			t.Errorf("now %s: slept %v, want %v", tt.now.Format(time.TimeOnly), slept, tt.want)
		}
	}
}

func TestCollectErrors(t *testing.T) {
	x := newTestCollector(windowLog(t), testConns(), at.Add(time.Hour), nil)
	tests := []struct{ with, want string }{
		{`{"connection":"nope","at":"2024-05-01T10:00:00Z"}`, `with.connection "nope" is not configured (configured: lake, partner, shop)`},
		{`{"at":"2024-05-01T10:00:00Z"}`, `with.connection is required`},
		{`{"connection":"partner","window":"1 hour","at":"2024-05-01T10:00:00Z"}`, `with.window "1 hour": want a duration such as "1h", "30m" or "24h"`},
		{`{"connection":"partner","window":"-1h","at":"2024-05-01T10:00:00Z"}`, `with.window "-1h": must be positive`},
		{`{"connection":"partner","window":"0s","at":"2024-05-01T10:00:00Z"}`, `with.window "0s": must be positive`},
		{`{"connection":"partner","window":3600,"at":"2024-05-01T10:00:00Z"}`, `with.window: want a duration such as "1h" or "24h", got 3600`},
		{`{"connection":"partner"}`, `with.at is required: the end of the window, RFC 3339 (in a scheduled workflow: at: "{{ .event.scheduledAt }}")`},
		{`{"connection":"partner","at":null}`, `with.at is required`},
		{`{"connection":"partner","at":"2024-05-01 10:00"}`, `with.at "2024-05-01 10:00": want an RFC 3339 time`},
		{`{"connection":"partner","at":"2024-05-01T12:00:00Z"}`, `with.at 2024-05-01T12:00:00Z is in the future (now 2024-05-01T11:00:00Z): the window [2024-05-01T11:00:00Z, 2024-05-01T12:00:00Z) has not ended`},
		{`{"connection":"partner","at":"2024-05-01T10:00:00Z","limit":0}`, `with.limit 0: want 1 to 1000000`},
		{`{"connection":"partner","at":"2024-05-01T10:00:00Z","limit":1.5}`, `with.limit: want a whole number, got 1.5`},
		{`{"connection":"partner","at":"2024-05-01T10:00:00Z","limit":2}`, `connection partner received more than 2 events in [2024-05-01T09:00:00Z, 2024-05-01T10:00:00Z); nothing was collected: raise with.limit (at most 1000000) or shorten with.window`},
		{`{"connection":"partner","at":"2024-05-01T10:00:00Z","entity":"invoices"}`, `with.entity "invoices": connection partner has no such entity (it has: profiles, orders)`},
		{`{"connection":"shop","at":"2024-05-01T10:00:00Z","include_source":true}`, `with.include_source: connection shop (connector webhook) does not import files`},
		{`{"connection":"partner","at":"2024-05-01T10:00:00Z","include_source":"yes"}`, `with.include_source: want true or false, got "yes"`},
		{`{"connection":"partner","at":"2024-05-01T10:00:00Z","windw":"1h"}`, `with.windw is not a known key (at, connection, entity, include_source, limit, window)`},
		{`{"window":"x"}`, `with.connection is required: the name of the connection whose events to collect; with.window "x"`},
		{`[1]`, `with: want an object`},
	}
	for _, tt := range tests {
		_, err := run(t, x, tt.with)
		permanent(t, err, tt.want)
	}
}

// TestCollectWithoutTheHub: without the event log or the connections the
// task is not built at all (the hub fails at start-up, naming what is
// missing); with both it runs.
func TestCollectWithoutTheHub(t *testing.T) {
	d, ok := task.Lookup(TaskID)
	if !ok {
		t.Fatalf("%s is not registered", TaskID)
	}
	st := openStore(t)
	tests := []struct {
		name string
		env  *task.Env
		want string
	}{
		{"nothing", &task.Env{},
			"task events.collect needs task.Env.Events (the store's event log) and task.Env.Connections (the hub's connections), which the hub did not provide"},
		{"no connections", &task.Env{Events: st.Log()},
			"task events.collect needs task.Env.Connections (the hub's connections), which the hub did not provide"},
		{"no event log", &task.Env{Connections: testConns()},
			"task events.collect needs task.Env.Events (the store's event log), which the hub did not provide"},
	}
	for _, tt := range tests {
		x, err := d.New(tt.env)
		if err == nil || x != nil || err.Error() != tt.want {
			t.Errorf("%s: New = %v, %v; want the error %q", tt.name, x, err, tt.want)
		}
	}

	x, err := d.New(&task.Env{Events: st.Log(), Connections: testConns()})
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, x, `{"connection":"shop","at":"2024-05-01T10:00:00Z"}`); err != nil || out.Count != 0 {
		t.Errorf("built from the hub's env: %+v, %v", out, err)
	}
}

// failingLog fails every read, as a closed store does.
type failingLog struct{}

func (failingLog) Read(context.Context, uint64, int) ([]event.Event, error) {
	return nil, store.ErrClosed
}
func (failingLog) LastSeq() uint64 { return 10 }

func TestCollectStoreErrorIsRetryable(t *testing.T) {
	x := newTestCollector(failingLog{}, testConns(), at.Add(time.Hour), nil)
	_, err := run(t, x, `{"connection":"shop","at":"2024-05-01T10:00:00Z"}`)
	if !pluginsdk.IsRetryable(err) || !strings.Contains(err.Error(), "read the event log of shop: store closed") {
		t.Errorf("error %v, want a retryable one naming the connection and the cause", err)
	}
}
