package statsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/store"
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

func openRecorder(t testing.TB, kv store.KV) *stats.Recorder {
	t.Helper()
	r, err := stats.Open(context.Background(), stats.Options{KV: kv, Logger: quiet, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fixture is package stats' test record set (a copy: the expected counts
// below depend on it).
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

func TestStatsAPI(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	defer st.Close()
	r := openRecorder(t, st.KV())
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
	a := &API{Recorder: r, Log: st.Log(), Known: func(name string) bool { return name == "files" || name == "idle" }}
	a.Routes(app.Group("/api/v1"))
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
		Stats  stats.ConnectionStats
		Reload struct{ Method, Path string }
	}
	if code := get("/api/v1/connections/files/stats", &cs); code != 200 || cs.Stats.TotalRecords != 30 || cs.Stats.TotalEntities != 1 || cs.Reload.Path != "/api/v1/connections/files/fetch" || len(cs.Stats.Daily) != 7 || cs.Stats.Daily[6].Records != 30 {
		t.Fatalf("connection stats: %d %+v", code, cs)
	}
	var es struct{ Entity stats.EntityStats }
	if code := get("/api/v1/connections/files/stats/entities/contacts", &es); code != 200 || es.Entity.Rows != 30 || len(es.Entity.FieldList) == 0 {
		t.Fatalf("entity stats: %d %+v", code, es)
	}
	var fs struct{ Field stats.FieldStats }
	if code := get("/api/v1/connections/files/stats/entities/contacts/fields/plan", &fs); code != 200 || fs.Field.Values != 30 || !fs.Field.TopExact || len(fs.Field.Top) != 3 {
		t.Fatalf("field stats: %d %+v", code, fs)
	}
	var recs struct{ Records []stats.Record }
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
