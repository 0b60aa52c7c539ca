package directoryapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/store"
)

func newApp(t *testing.T) (*fiber.App, *directory.Service) {
	t.Helper()
	st, err := store.Open(context.Background(), "", store.Options{
		InMemory: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecretKey: make([]byte, store.SecretKeySize),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	svc := directory.New(st, []*config.Directory{
		{Name: "POOL_demo", DisplayName: "Demo pool", Dedup: [][]string{{"email"}, {"firstName", "lastName"}}},
		{Name: "POOL_empty"},
	})
	app := fiber.New()
	a := &API{Directory: svc}
	a.Routes(app.Group("/api/v1"))
	return app, svc
}

// get requests path and decodes the JSON answer into a generic value.
func get(t *testing.T, app *fiber.App, path string, wantStatus int) map[string]any {
	t.Helper()
	resp, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("GET %s: status %d, want %d: %s", path, resp.StatusCode, wantStatus, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("GET %s: %v in %s", path, err, body)
	}
	return out
}

func keys(m any) []string {
	var out []string
	for k := range m.(map[string]any) {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestContactsAPI(t *testing.T) {
	ctx := context.Background()
	app, svc := newApp(t)
	ann, _, err := svc.Upsert(ctx, "POOL_demo", directory.ContactInput{
		Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", Phone: "+39 06 1234", ExtRef: "E1",
		Embedded: map[string]any{"tier": "gold", "visits": 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	bob, _, err := svc.Upsert(ctx, "POOL_demo", directory.ContactInput{FirstName: "Bob", LastName: "Ray"})
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 2, d, 10, 0, 0, 0, time.UTC) }
	for _, d := range []int{5, 2} {
		if _, err := svc.AddTransaction(ctx, "POOL_demo", directory.ContactInput{Email: "ann@example.com"},
			directory.TxInput{Date: day(d), Data: map[string]any{"day": d}}, ""); err != nil {
			t.Fatal(err)
		}
	}
	dist, _, err := svc.CreateDistribution(ctx, directory.DistributionInput{ContactID: ann.ID, SurveyID: "SV_demo", Method: "email"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("directories with counts", func(t *testing.T) {
		got := get(t, app, "/api/v1/directories", 200)
		want := []any{
			map[string]any{"id": "POOL_demo", "displayName": "Demo pool", "dedup": []any{"email", "firstName+lastName"}, "contacts": 2.0},
			map[string]any{"id": "POOL_empty", "displayName": "", "dedup": []any{"email"}, "contacts": 0.0},
		}
		if !reflect.DeepEqual(got["directories"], want) {
			t.Errorf("directories = %v\nwant %v", got["directories"], want)
		}
	})
	t.Run("find by email has the contract's shape", func(t *testing.T) {
		got := get(t, app, "/api/v1/directories/POOL_demo/contacts?email=ANN@example.com", 200)
		cs := got["contacts"].([]any)
		if len(cs) != 1 {
			t.Fatalf("contacts = %v", cs)
		}
		c := cs[0].(map[string]any)
		for _, k := range []string{"id", "email", "firstName", "lastName", "phone", "extRef", "embedded", "createdAt", "updatedAt"} {
			if _, ok := c[k]; !ok {
				t.Errorf("contact lacks %q: %v", k, keys(c))
			}
		}
		if c["id"] != ann.ID || c["email"] != "ann@example.com" || !reflect.DeepEqual(c["embedded"], map[string]any{"tier": "gold", "visits": 3.0}) {
			t.Errorf("contact = %v", c)
		}
		for _, q := range []string{"extRef=e1", "phone=%2B39061234", "email=ann@example.com&extRef=E1"} {
			got := get(t, app, "/api/v1/directories/POOL_demo/contacts?"+q, 200)["contacts"].([]any)
			if len(got) != 1 || got[0].(map[string]any)["id"] != ann.ID {
				t.Errorf("?%s = %v, want ann", q, got)
			}
		}
		none := get(t, app, "/api/v1/directories/POOL_demo/contacts?email=nobody@example.com", 200)
		if cs, ok := none["contacts"].([]any); !ok || len(cs) != 0 {
			t.Errorf("no match = %v, want an empty list", none)
		}
	})
	t.Run("pages", func(t *testing.T) {
		p1 := get(t, app, "/api/v1/directories/POOL_demo/contacts?limit=1", 200)
		if cs := p1["contacts"].([]any); len(cs) != 1 || cs[0].(map[string]any)["id"] != ann.ID || p1["next"] != ann.ID {
			t.Fatalf("page 1 = %v", p1)
		}
		p2 := get(t, app, "/api/v1/directories/POOL_demo/contacts?limit=1&after="+ann.ID, 200)
		if cs := p2["contacts"].([]any); len(cs) != 1 || cs[0].(map[string]any)["id"] != bob.ID || p2["next"] != nil {
			t.Fatalf("page 2 = %v", p2)
		}
	})
	t.Run("contact with transactions in time order and distributions", func(t *testing.T) {
		got := get(t, app, "/api/v1/contacts/"+ann.ID, 200)
		txs := got["transactions"].([]any)
		if len(txs) != 2 {
			t.Fatalf("transactions = %v", txs)
		}
		for i, d := range []float64{2, 5} {
			tx := txs[i].(map[string]any)
			if tx["date"] != day(int(d)).Format(time.RFC3339) || tx["data"].(map[string]any)["day"] != d || tx["id"] == "" {
				t.Errorf("transaction %d = %v, want day %v", i, tx, d)
			}
		}
		ds := got["distributions"].([]any)
		if len(ds) != 1 || ds[0].(map[string]any)["id"] != dist.ID || ds[0].(map[string]any)["status"] != "queued" {
			t.Errorf("distributions = %v", ds)
		}
		if got["email"] != "ann@example.com" || got["id"] != ann.ID {
			t.Errorf("contact fields missing at the top level: %v", keys(got))
		}
		d := get(t, app, "/api/v1/distributions/"+dist.ID, 200)
		if d["distribution"].(map[string]any)["contactId"] != ann.ID {
			t.Errorf("distribution = %v", d)
		}
	})
	t.Run("lists", func(t *testing.T) {
		if _, err := svc.AddToList(ctx, "POOL_demo", "VIP", directory.ContactInput{Email: "ann@example.com"}); err != nil {
			t.Fatal(err)
		}
		got := get(t, app, "/api/v1/directories/POOL_demo/lists", 200)["lists"].([]any)
		if len(got) != 1 || got[0].(map[string]any)["name"] != "VIP" || got[0].(map[string]any)["members"] != 1.0 {
			t.Errorf("lists = %v", got)
		}
	})
}

func TestContactsAPIErrors(t *testing.T) {
	app, _ := newApp(t)
	tests := []struct {
		path   string
		status int
		code   string
		msg    string
	}{
		{"/api/v1/directories/POOL_x/contacts", 404, "unknown_directory", `unknown directory "POOL_x" (configured: POOL_demo, POOL_empty)`},
		{"/api/v1/directories/POOL_demo/contacts?limit=0", 400, "bad_request", `limit "0": want a number from 1 to 1000`},
		{"/api/v1/directories/POOL_demo/contacts?limit=ten", 400, "bad_request", `limit "ten": want a number from 1 to 1000`},
		{"/api/v1/directories/POOL_demo/contacts?after=bogus", 400, "bad_request", `after "bogus": want a contact ID (CID_ and 26 letters and digits)`},
		{"/api/v1/directories/POOL_demo/contacts?email=a@b.c&after=CID_01ARZ3NDEKTSV4RRFFQ69G5FAV", 400, "bad_request",
			"after pages the full list; it cannot be combined with email, extRef or phone"},
		{"/api/v1/directories/POOL_demo/contacts?phone=none", 400, "bad_request", `find contacts: phone "none" matches nothing (a phone needs digits)`},
		{"/api/v1/contacts/CID_01ARZ3NDEKTSV4RRFFQ69G5FAV", 404, "not_found", "contact CID_01ARZ3NDEKTSV4RRFFQ69G5FAV: not found"},
		{"/api/v1/contacts/nope", 404, "not_found", `contact "nope": not found`},
		{"/api/v1/distributions/DIST_x", 404, "not_found", `distribution "DIST_x": not found`},
		{"/api/v1/directories/POOL_x/lists", 404, "unknown_directory", `unknown directory "POOL_x" (configured: POOL_demo, POOL_empty)`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got := get(t, app, tt.path, tt.status)
			want := map[string]any{"error": map[string]any{"code": tt.code, "message": tt.msg}}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("body = %v, want %v", got, want)
			}
		})
	}
}
