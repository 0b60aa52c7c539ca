package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/store"
)

func TestStatsAPI(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	defer st.Close()
	r := openRecorder(t, st.KV(), nil)
	defer r.Close()

	// Ingest through the log as the hook path does: append, then observe.
	var reqs []store.AppendRequest
	for i, ev := range fixture(30) {
		reqs = append(reqs, store.AppendRequest{Connection: "files", Type: "contacts", Payload: ev, DedupKey: fmt.Sprint(i)})
	}
	reqs = append(reqs, store.AppendRequest{Connection: "other", Type: "x", Payload: json.RawMessage(`{"a":1}`)})
	res, err := st.Log().Append(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	r.ObserveAppended(reqs, res, time.Now())
	// A repeated delivery is dropped by the log and not counted again.
	res, err = st.Log().Append(ctx, reqs[:1])
	if err != nil || !res[0].Duplicate {
		t.Fatalf("duplicate: %+v %v", res, err)
	}
	r.ObserveAppended(reqs[:1], res, time.Now())

	app := fiber.New()
	Routes(app.Group("/api/v1"), r, st.Log(), func(name string) bool { return name == "files" || name == "idle" })
	get := func(path string, out any) int {
		t.Helper()
		resp, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s: %v: %s", path, err, b)
			}
		}
		return resp.StatusCode
	}

	var cs struct {
		Stats  ConnectionStats
		Reload struct{ Method, Path string }
	}
	if code := get("/api/v1/connections/files/stats", &cs); code != 200 || cs.Stats.TotalRecords != 30 || cs.Stats.TotalEntities != 1 || cs.Reload.Path != "/api/v1/connections/files/fetch" || len(cs.Stats.Daily) != 7 || cs.Stats.Daily[6].Records != 30 {
		t.Fatalf("connection stats: %d %+v", code, cs)
	}
	var es struct{ Entity EntityStats }
	if code := get("/api/v1/connections/files/stats/entities/contacts", &es); code != 200 || es.Entity.Rows != 30 || len(es.Entity.FieldList) == 0 {
		t.Fatalf("entity stats: %d %+v", code, es)
	}
	var fs struct{ Field FieldStats }
	if code := get("/api/v1/connections/files/stats/entities/contacts/fields/plan", &fs); code != 200 || fs.Field.Values != 30 || !fs.Field.TopExact || len(fs.Field.Top) != 3 {
		t.Fatalf("field stats: %d %+v", code, fs)
	}
	var recs struct{ Records []Record }
	if code := get("/api/v1/connections/files/records?entity=contacts&limit=5", &recs); code != 200 || len(recs.Records) != 5 {
		t.Fatalf("records: %d %+v", code, recs)
	}
	var newest map[string]any
	_ = json.Unmarshal(recs.Records[0].Record, &newest)
	if newest["id"] != "c-0029" || recs.Records[0].Entity != "contacts" {
		t.Errorf("newest record %v (%s), want c-0029 of contacts", newest, recs.Records[0].Entity)
	}
	if code := get("/api/v1/connections/files/records?entity=orders", &recs); code != 200 || len(recs.Records) != 0 {
		t.Errorf("records of another entity: %d %d", code, len(recs.Records))
	}
	if code := get("/api/v1/connections/idle/stats", &cs); code != 200 || cs.Stats.TotalRecords != 0 {
		t.Errorf("configured connection without records: %d %+v", code, cs.Stats)
	}
	for _, p := range []string{
		"/api/v1/connections/nope/stats",
		"/api/v1/connections/files/stats/entities/nope",
		"/api/v1/connections/files/stats/entities/contacts/fields/nope",
		"/api/v1/connections/nope/records",
	} {
		var e struct{ Error struct{ Code string } }
		if code := get(p, &e); code != 404 || e.Error.Code != "not_found" {
			t.Errorf("%s: %d %+v, want 404 not_found", p, code, e)
		}
	}
	if code := get("/api/v1/connections/files/records?limit=0", nil); code != 400 {
		t.Errorf("limit 0: %d", code)
	}
}

func TestLatestRecordsScansBackwards(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	defer st.Close()
	// 1200 events of a busy connection around 3 of a quiet one.
	for i := 0; i < 1203; i++ {
		conn := "busy"
		if i == 10 || i == 600 || i == 1100 {
			conn = "quiet"
		}
		if _, err := st.Log().Append(ctx, []store.AppendRequest{{Connection: conn, Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}}); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := LatestRecords(ctx, st.Log(), "quiet", "", 10, 5000)
	if err != nil || len(recs) != 3 || string(recs[0].Record) != `{"n":1100}` || string(recs[2].Record) != `{"n":10}` || recs[0].Entity != DefaultEntity {
		t.Fatalf("records %+v %v", recs, err)
	}
	// The scan bound stops before the oldest one.
	recs, _ = LatestRecords(ctx, st.Log(), "quiet", "", 10, 1000)
	if len(recs) != 2 {
		t.Errorf("bounded scan found %d, want 2", len(recs))
	}
}
