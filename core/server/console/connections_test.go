package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// fakeStats knows crm-feed's Contact entity.
type fakeStats struct{}

func (fakeStats) ConnectionStats(_ context.Context, name string) (*ConnectionStats, error) {
	if name != "crm-feed" {
		return nil, fmt.Errorf("stats of %s: %w", name, store.ErrNotFound)
	}
	q := 0.875
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	st := &ConnectionStats{
		ConnectedAt: day.Add(-72 * time.Hour), LastRecordAt: day.Add(6 * 24 * time.Hour),
		TotalRecords: 12345, Quality: &q,
		Entities: []EntityCount{{Name: "Contact", Records: 12000}, {Name: "Lead", Records: 345}},
	}
	for i, n := range []int64{0, 10, 400, 1, 0, 250, 90} {
		st.PerDay = append(st.PerDay, DayCount{Day: day.AddDate(0, 0, i), Records: n})
	}
	return st, nil
}

func (fakeStats) EntityStats(_ context.Context, conn, entity string) (*EntityStats, error) {
	if conn != "crm-feed" || entity != "Contact" {
		return nil, store.ErrNotFound
	}
	return &EntityStats{
		Name: "Contact", Records: 12000,
		Fields: []pluginsdk.Field{{Name: "Email", Type: "string", Required: true}, {Name: "Country", Type: "string"}},
		Latest: []json.RawMessage{
			json.RawMessage(`{"Email":"ada@example.com","Country":"IT","Extra":1}`),
			json.RawMessage(`{"Email":"<script>alert(1)</script>","Country":null}`),
		},
	}, nil
}

func (fakeStats) FieldStats(_ context.Context, conn, entity, field string) (*FieldStats, error) {
	if conn != "crm-feed" || entity != "Contact" || field != "Country" {
		return nil, store.ErrNotFound
	}
	return &FieldStats{
		Field: pluginsdk.Field{Name: "Country", Type: "string"}, Rows: 12000, Values: 11000, Distinct: 40,
		Top: []ValueCount{{Value: "IT", Count: 6000}, {Value: "DE", Count: 3000}},
	}, nil
}

// fakeOps records the operations it was asked for.
type fakeOps struct {
	mu    sync.Mutex
	calls []string
}

func (o *fakeOps) record(op, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, op+" "+name)
}

func (o *fakeOps) Fetch(_ context.Context, name string) (string, error) {
	o.record("fetch", name)
	return "Fetch of " + name + " started (job 7).", nil
}

func (o *fakeOps) FetchMetadata(_ context.Context, name string) (string, error) {
	o.record("metadata", name)
	return "", errors.New("the CRM answered 503")
}

func (o *fakeOps) Reconnect(_ context.Context, name string) (string, error) {
	o.record("reconnect", name)
	return "", nil
}

func TestConnectionsWithoutStats(t *testing.T) {
	f := newFixture(t, nil)
	b := f.login()
	resp := b.get("/connections")
	if resp.Status != http.StatusOK {
		t.Fatalf("GET /connections = %d", resp.Status)
	}
	mustContain(t, resp.Body,
		`<a href="/connections/orders-in">orders-in</a>`, `<a href="/connections/crm-feed">crm-feed</a>`,
		"Data statistics are not available yet in this hub.",
		"Fetch, metadata and reconnect buttons are not available yet",
		`href="/connections/crm-feed/json">Show JSON</a>`,
	)
	if strings.Contains(resp.Body, "Start fetching") {
		t.Error("fetch button shown without operations")
	}
	page := b.get("/connections/orders-in")
	mustContain(t, page.Body, "/hooks/orders-in", "<code>region</code></th><td><code>eu</code>", `<a href="/workflows/orders">orders</a>`)
	if strings.Contains(page.Body, "hunter2") {
		t.Error("the connection page shows a secret config value")
	}
	// Without stats the entity page still shows the declared metadata.
	ent := b.get("/connections/crm-feed/entities/Contact")
	mustContain(t, ent.Body, "email__c", "not available yet")
	if resp := b.get("/connections/crm-feed/entities/Nope"); resp.Status != http.StatusNotFound {
		t.Errorf("unknown entity = %d", resp.Status)
	}
	if resp := b.get("/connections/nope"); resp.Status != http.StatusNotFound {
		t.Errorf("unknown connection = %d", resp.Status)
	}
	// Buttons posted anyway say what is missing.
	op := b.submit("/connections/crm-feed/fetch", nil)
	if op.Status != http.StatusSeeOther {
		t.Fatalf("fetch = %d", op.Status)
	}
	mustContain(t, b.get(op.Location).Body, "Connection operations are not available yet")
}

func TestConnectionsWithStats(t *testing.T) {
	ops := &fakeOps{}
	f := newFixture(t, func(o *Options) { o.Stats = fakeStats{}; o.Ops = ops })
	b := f.login()
	resp := b.get("/connections")
	mustContain(t, resp.Body,
		"<dt>Total records</dt><dd>12,345</dd>", "<dt>Data quality</dt><dd>87.5%</dd>", "<dt>Entities</dt><dd>2</dd>",
		// The chart: one bar per day, the peak (400) fills the 60px plot,
		// a day of 1 record still shows, an empty day has no bar.
		`aria-label="Records per day: Mar 2 0, Mar 3 10, Mar 4 400, Mar 5 1, Mar 6 0, Mar 7 250, Mar 8 90"`,
		`<title>Mar 4: 400 records</title>`, `<rect class="bar" x="72" y="0" width="28" height="60">`,
		`<rect class="bar" x="108" y="58" width="28" height="2">`, `<rect class="bar" x="0" y="60" width="28" height="0">`,
		"Start fetching", "Fetch metadata", "Reconnect",
	)

	page := b.get("/connections/crm-feed")
	mustContain(t, page.Body, `href="/connections/crm-feed/entities/Contact">Contacts</a>`, "<td>12,000</td>", `href="/connections/crm-feed/entities/Lead">Lead</a>`)

	ent := b.get("/connections/crm-feed/entities/Contact")
	mustContain(t, ent.Body, "12,000 records.", "<td>email__c</td>", `<th scope="col">Email</th><th scope="col">Country</th>`,
		"<td>ada@example.com</td><td>IT</td>", "&lt;script&gt;alert(1)&lt;/script&gt;",
		`href="/connections/crm-feed/entities/Contact/fields/Country"`)
	if strings.Contains(ent.Body, "<script>alert") {
		t.Error("a record value was not escaped")
	}

	fld := b.get("/connections/crm-feed/entities/Contact/fields/Country")
	mustContain(t, fld.Body, "<dt>Rows</dt><dd>12,000</dd>", "<dt>With a value</dt><dd>11,000</dd>",
		"<dt>Empty or missing</dt><dd>1,000</dd>", "<dt>Distinct values</dt><dd>40</dd>",
		"<td><code>IT</code></td><td>6,000</td>", "50.0%")

	js := b.get("/connections/crm-feed/json")
	if ct := js.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("show JSON content type %q", ct)
	}
	var doc struct {
		Connection struct {
			Name  string           `json:"name"`
			Stats *ConnectionStats `json:"stats"`
		} `json:"connection"`
	}
	if err := json.Unmarshal([]byte(js.Body), &doc); err != nil || doc.Connection.Name != "crm-feed" || doc.Connection.Stats.TotalRecords != 12345 {
		t.Errorf("show JSON: %v %+v", err, doc)
	}
	if js := b.get("/connections/orders-in/json"); strings.Contains(js.Body, "hunter2") {
		t.Error("show JSON reveals a secret")
	}

	for _, tt := range []struct{ op, back, want string }{
		{"fetch", "/connections", "Fetch of crm-feed started (job 7)."},
		{"metadata", "", "Fetch metadata of crm-feed failed: the CRM answered 503"},
		{"reconnect", "", "Reconnect crm-feed: started."},
	} {
		resp := b.submit("/connections/crm-feed/"+tt.op, map[string][]string{"back": {tt.back}})
		wantLoc := tt.back
		if wantLoc == "" {
			wantLoc = "/connections/crm-feed"
		}
		if resp.Status != http.StatusSeeOther || resp.Location != wantLoc {
			t.Fatalf("%s: %d to %q, want 303 to %q", tt.op, resp.Status, resp.Location, wantLoc)
		}
		mustContain(t, b.get(resp.Location).Body, tt.want)
	}
	// orders-in only receives: fetching it is refused before the operation.
	resp = b.submit("/connections/orders-in/fetch", nil)
	mustContain(t, b.get(resp.Location).Body, "Connection orders-in does not fetch records")
	if want := []string{"fetch crm-feed", "metadata crm-feed", "reconnect crm-feed"}; strings.Join(ops.calls, ",") != strings.Join(want, ",") {
		t.Errorf("operations = %v, want %v", ops.calls, want)
	}
}
