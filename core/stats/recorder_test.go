package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func openStore(t testing.TB, dir string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dir, store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{5}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func openRecorder(t testing.TB, kv store.KV, now func() time.Time) *Recorder {
	t.Helper()
	r, err := Open(context.Background(), Options{KV: kv, Logger: quiet, Now: now, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixture is a CSV-like record set: columns with empty cells, a unique id,
// a few repeated values, numbers, booleans, a column that appears only in
// later rows, and a nested value.
func fixture(n int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	countries := []string{"IT", "DE", "FR", "US", "", "BR"}
	var out [][]byte
	for i := 0; i < n; i++ {
		rec := map[string]any{
			"id":      fmt.Sprintf("c-%04d", i),
			"email":   fmt.Sprintf("user%d@example.com", rng.IntN(n/3+1)),
			"country": countries[rng.IntN(len(countries))],
			"age":     nil,
			"active":  rng.IntN(3) == 0,
			"plan":    []string{"free", "pro", "team"}[rng.IntN(3)],
		}
		if rng.IntN(4) != 0 {
			rec["age"] = 18 + rng.IntN(60)
		}
		if i >= n/2 {
			rec["note"] = []string{"", "vip", "call back"}[rng.IntN(3)]
		}
		if i%10 == 0 {
			rec["tags"] = []string{"a", "b"}
		}
		// The sftp/s3 event shape of CONTRACT.md.
		ev, _ := json.Marshal(map[string]any{"file": "contacts.csv", "line": i + 2, "entity": "contacts", "record": rec})
		out = append(out, ev)
	}
	return out
}

// expected computes the overview of the fixture independently, from fully
// decoded records.
type expectedField struct {
	values int64
	counts map[string]int64
}

func expected(t *testing.T, events [][]byte) (rows int64, fields map[string]*expectedField) {
	t.Helper()
	fields = map[string]*expectedField{}
	for _, ev := range events {
		var e struct{ Record map[string]any }
		if err := json.Unmarshal(ev, &e); err != nil {
			t.Fatal(err)
		}
		rows++
		for k, v := range e.Record {
			f := fields[k]
			if f == nil {
				f = &expectedField{counts: map[string]int64{}}
				fields[k] = f
			}
			switch v := v.(type) {
			case nil:
			case string:
				if v != "" {
					f.values++
					f.counts[v]++
				}
			case float64:
				f.values++
				f.counts[fmt.Sprint(v)]++
			case bool:
				f.values++
				f.counts[fmt.Sprint(v)]++
			default:
				f.values++
			}
		}
	}
	return rows, fields
}

func TestOverviewMatchesFixture(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	r := openRecorder(t, st.KV(), func() time.Time { return at })
	defer r.Close()
	events := fixture(1000)
	for _, ev := range events {
		r.Observe("files", "", ev, at)
	}
	rows, want := expected(t, events)

	cs, ok := r.Connection("files")
	if !ok || cs.TotalRecords != rows || cs.TotalEntities != 1 {
		t.Fatalf("connection %+v", cs)
	}
	es, ok := r.Entity("files", "contacts")
	if !ok || es.Rows != rows || es.Fields != len(want) {
		t.Fatalf("entity %+v, want %d rows and %d fields", es.EntitySummary, rows, len(want))
	}
	var cells, nulls int64
	for name, wf := range want {
		cells += rows
		nulls += rows - wf.values
		fs, ok := r.Field("files", "contacts", name)
		if !ok {
			t.Fatalf("no field %s", name)
		}
		if fs.Rows != rows || fs.Values != wf.values || fs.NullValues != rows-wf.values {
			t.Errorf("field %s: rows %d values %d nulls %d, want %d %d %d", name, fs.Rows, fs.Values, fs.NullValues, rows, wf.values, rows-wf.values)
		}
		if wantPct := 100 * float64(rows-wf.values) / float64(rows); math.Abs(fs.NullPct-wantPct) > 1e-9 {
			t.Errorf("field %s null %% %v, want %v", name, fs.NullPct, wantPct)
		}
		if len(wf.counts) > 32 || name == "tags" {
			continue
		}
		// At most k distinct values: the top values are exact.
		if !fs.TopExact {
			t.Errorf("field %s: %d distinct values, want exact top values", name, len(wf.counts))
		}
		got := map[string]int64{}
		for _, tv := range fs.Top {
			got[tv.Value] = tv.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(wf.counts) {
			t.Errorf("field %s top values %v, want %v", name, got, wf.counts)
		}
		for i := 1; i < len(fs.Top); i++ {
			if fs.Top[i].Count > fs.Top[i-1].Count {
				t.Errorf("field %s top values not by frequency: %v", name, fs.Top)
			}
		}
	}
	wantPct := 100 * float64(nulls) / float64(cells)
	if es.Cells != cells || es.NullValues != nulls || math.Abs(es.NullPct-wantPct) > 1e-9 || math.Abs(es.DataQuality-(100-wantPct)) > 1e-9 {
		t.Errorf("entity quality %+v, want cells %d nulls %d (%.4f%%)", es.Quality, cells, nulls, wantPct)
	}
	if cs.NullValues != nulls || cs.Cells != cells {
		t.Errorf("connection quality %+v", cs.Quality)
	}
	if fs, _ := r.Field("files", "contacts", "email"); fs.TopExact || len(fs.Top) != 32 {
		t.Errorf("email (>k distinct): exact %v, %d top values; want an estimate of 32", fs.TopExact, len(fs.Top))
	}
	types := map[string]string{"id": "string", "age": "number", "active": "boolean", "tags": "array", "note": "string"}
	for name, typ := range types {
		if fs, _ := r.Field("files", "contacts", name); fs.Type != typ {
			t.Errorf("field %s type %q, want %q", name, fs.Type, typ)
		}
	}
}

// TestHeavyHittersSurvive: with far more than k distinct values, values
// more frequent than n/k are kept, each count within its error bound.
func TestHeavyHittersSurvive(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	r := openRecorder(t, st.KV(), nil)
	defer r.Close()
	truth := map[string]int64{}
	at := time.Now()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		v := fmt.Sprintf("noise-%d", rng.IntN(5000))
		if x := rng.IntN(10); x < 3 {
			v = []string{"alpha", "beta", "gamma"}[x]
		}
		truth[v]++
		r.Observe("c", "e", []byte(`{"v":"`+v+`"}`), at)
	}
	fs, _ := r.Field("c", "e", "v")
	if fs.TopExact {
		t.Fatal("exact with 5003 distinct values")
	}
	top := map[string]TopValue{}
	for _, tv := range fs.Top {
		top[tv.Value] = tv
	}
	for _, v := range []string{"alpha", "beta", "gamma"} {
		tv, ok := top[v]
		if !ok {
			t.Fatalf("heavy hitter %s (%d of 20000) lost: %v", v, truth[v], fs.Top)
		}
		if tv.Count < truth[v] || tv.Count-tv.Error > truth[v] {
			t.Errorf("%s: count %d error %d, true %d", v, tv.Count, tv.Error, truth[v])
		}
	}
	if fs.Top[0].Value != "alpha" && fs.Top[0].Value != "beta" && fs.Top[0].Value != "gamma" {
		t.Errorf("most frequent %q", fs.Top[0].Value)
	}
}

func TestStatsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { return at }
	r := openRecorder(t, st.KV(), now)
	for _, ev := range fixture(300) {
		r.Observe("files", "", ev, at)
	}
	r.SetMetadata("files", &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{{Name: "contacts", DisplayName: "Contacts", Fields: []pluginsdk.Field{{Name: "email", Type: "string", Required: true}}}}}, at)
	before, _ := r.Entity("files", "contacts")
	beforeField, _ := r.Field("files", "contacts", "country")
	beforeConn, _ := r.Connection("files")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = openStore(t, dir)
	defer st.Close()
	r = openRecorder(t, st.KV(), now)
	defer r.Close()
	after, ok := r.Entity("files", "contacts")
	afterField, _ := r.Field("files", "contacts", "country")
	afterConn, _ := r.Connection("files")
	for _, p := range [][2]any{{before, after}, {beforeField, afterField}, {beforeConn, afterConn}} {
		a, _ := json.Marshal(p[0])
		b, _ := json.Marshal(p[1])
		if !ok || !bytes.Equal(a, b) {
			t.Errorf("after restart\n%s\nwant\n%s", b, a)
		}
	}
	// Counting goes on from the loaded state.
	r.Observe("files", "", fixture(1)[0], at)
	if es, _ := r.Entity("files", "contacts"); es.Rows != 301 {
		t.Errorf("rows %d after one more record, want 301", es.Rows)
	}
}

func TestDailyAndTimes(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Date(2026, 6, 10, 9, 0, 0, 0, rome)
	r, err := Open(context.Background(), Options{KV: st.KV(), Location: rome, Now: func() time.Time { return now }, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	connected := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	r.Connected("files", connected)
	// 23:30 UTC on 6 June is 01:30 on 7 June in Rome.
	days := []struct {
		at time.Time
		n  int
	}{
		{time.Date(2026, 5, 30, 10, 0, 0, 0, rome), 4}, // outside the week
		{time.Date(2026, 6, 4, 10, 0, 0, 0, rome), 2},
		{time.Date(2026, 6, 6, 23, 30, 0, 0, time.UTC), 3},
		{time.Date(2026, 6, 10, 8, 0, 0, 0, rome), 5},
		{time.Date(2026, 6, 4, 11, 0, 0, 0, rome), 1}, // late, out of order
	}
	for _, d := range days {
		for range d.n {
			r.Observe("files", "orders", []byte(`{"id":1}`), d.at)
		}
	}
	cs, _ := r.Connection("files")
	want := []DayCount{{"2026-06-04", 3}, {"2026-06-05", 0}, {"2026-06-06", 0}, {"2026-06-07", 3}, {"2026-06-08", 0}, {"2026-06-09", 0}, {"2026-06-10", 5}}
	if fmt.Sprint(cs.Daily) != fmt.Sprint(want) {
		t.Errorf("daily %v, want %v", cs.Daily, want)
	}
	if !cs.ConnectedAt.Equal(connected) || !cs.LastRecordAt.Equal(days[3].at) {
		t.Errorf("connected %s last %s", cs.ConnectedAt, cs.LastRecordAt)
	}
	es, _ := r.Entity("files", "orders")
	if !es.Created.Equal(days[0].at) || !es.Updated.Equal(days[3].at) {
		t.Errorf("entity created %s updated %s", es.Created, es.Updated)
	}
}

func TestPlainPayloadsAndMetadata(t *testing.T) {
	st := openStore(t, t.TempDir())
	defer st.Close()
	r := openRecorder(t, st.KV(), nil)
	defer r.Close()
	at := time.Now()
	r.Observe("segment", "track", []byte(`{"type":"track","event":"Order","properties":{"revenue":10}}`), at)
	r.Observe("segment", "", []byte(`{"type":"identify","record":{"x":1}}`), at) // record without entity: a plain payload
	r.Observe("segment", "", []byte(`[1,2]`), at)
	r.Observe("segment", "", []byte(`{"we\u0069rd":"\u00e9t\u00e9","n":null}`), at)
	r.SetMetadata("segment", &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{{Name: "track", Fields: []pluginsdk.Field{
		{Name: "event", DisplayName: "Event", APILabel: "event", Type: "string", Required: true, ReadOnly: true},
	}}}}, at)
	cs, _ := r.Connection("segment")
	names := []string{}
	for _, e := range cs.Entities {
		names = append(names, fmt.Sprintf("%s:%d", e.Name, e.Rows))
	}
	sort.Strings(names)
	if fmt.Sprint(names) != "[default:3 track:1]" {
		t.Errorf("entities %v", names)
	}
	es, _ := r.Entity("segment", "track")
	if len(es.Metadata) != 1 || es.Metadata[0] != (MetadataRow{Name: "event", DisplayName: "Event", APILabel: "event", Type: "string", Required: true, ReadOnly: true}) {
		t.Errorf("metadata table %+v", es.Metadata)
	}
	if fs, ok := r.Field("segment", "track", "properties"); !ok || fs.Type != "object" || len(fs.Top) != 0 {
		t.Errorf("object field %+v", fs)
	}
	if fs, ok := r.Field("segment", "default", "weird"); !ok || fs.Top[0].Value != "été" {
		t.Errorf("escaped key and value: %+v %v", fs, ok)
	}
	if fs, _ := r.Field("segment", "track", "event"); fs.Metadata == nil || !fs.Metadata.Required {
		t.Errorf("field metadata %+v", fs.Metadata)
	}
}

// BenchmarkObserve measures Observe on a 20-field record (strings, numbers,
// booleans, a null and an empty cell; ids unique, so one field keeps evicting
// from its sketch).
func BenchmarkObserve(b *testing.B) {
	st := openStore(b, b.TempDir())
	defer st.Close()
	r := openRecorder(b, st.KV(), nil)
	defer r.Close()
	recs := make([][]byte, 1024)
	for i := range recs {
		recs[i] = []byte(fmt.Sprintf(`{"id":"c-%07d","email":"user%d@example.com","first_name":"Ada","last_name":"Lovelace","country":"IT","city":"Rome","zip":"00%03d","age":%d,"score":%d.5,"active":true,"plan":"pro","segment":"s%d","language":"it","phone":"+3906%06d","company":"ACME","title":"Engineer","source":"import","optin":false,"notes":null,"extra":""}`,
			i, i%97, i%1000, 18+i%60, i%100, i%7, i))
	}
	at := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Observe("files", "contacts", recs[i%len(recs)], at)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/record")
}
