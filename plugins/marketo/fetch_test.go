package main

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// fetchedRecord decodes an event payload {"entity", "record"}.
func fetchedRecord(t *testing.T, ev pluginsdk.Event, entity string) map[string]any {
	t.Helper()
	var p struct {
		Entity string         `json:"entity"`
		Record map[string]any `json:"record"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatalf("payload %s: %v", ev.Payload, err)
	}
	if p.Entity != entity || p.Record == nil || ev.Type != entity {
		t.Fatalf("event type %q payload %s, want entity %s with a record", ev.Type, ev.Payload, entity)
	}
	return p.Record
}

// TestActivitiesPagingAndRestart pages through the activity stream three
// records at a time, with a fresh connector (a restarted hub) resuming from
// the saved cursor mid-way, then finds activities added later.
func TestActivitiesPagingAndRestart(t *testing.T) {
	for _, fm := range forms(t) {
		t.Run(fm.name, func(t *testing.T) {
			e := newEnv(t)
			e.f.addActivities(7, 1, 50, 51)
			cfg := map[string]any{"batch_size": 3}
			var ids []string
			collect := func(res *pluginsdk.FetchResult) {
				for _, ev := range res.Events {
					rec := fetchedRecord(t, ev, entityActivities)
					id := strconv.Itoa(int(rec["id"].(float64)))
					if ev.DedupKey != "activity/"+id {
						t.Errorf("dedup key %q, want activity/%s", ev.DedupKey, id)
					}
					if want, _ := time.Parse(time.RFC3339, rec["activityDate"].(string)); !ev.Time.Equal(want) || want.IsZero() {
						t.Errorf("event time %v, want %v", ev.Time, want)
					}
					ids = append(ids, id)
				}
			}
			c := e.connect(t, fm, cfg)
			first := fetch(t, c, entityActivities, nil)
			collect(first)
			if len(first.Events) != 3 || !first.More {
				t.Fatalf("first batch: %d events, more %v; want 3 and more", len(first.Events), first.More)
			}
			// Restart: a new connector, the committed cursor.
			c = e.connect(t, fm, cfg)
			second := fetch(t, c, entityActivities, first.Cursor)
			collect(second)
			third := fetch(t, c, entityActivities, second.Cursor)
			collect(third)
			if len(second.Events) != 3 || !second.More || len(third.Events) != 1 || third.More {
				t.Fatalf("batches of %d (more %v) and %d (more %v); want 3 (more) and 1 (done)",
					len(second.Events), second.More, len(third.Events), third.More)
			}
			want := "102988 102989 102990 102991 102992 102993 102994"
			if got := strings.Join(ids, " "); got != want {
				t.Errorf("activity ids %s, want each once in order: %s", got, want)
			}
			// Caught up: nothing new, the cursor stays.
			idle := fetch(t, c, entityActivities, third.Cursor)
			if len(idle.Events) != 0 || idle.More || string(idle.Cursor) != string(third.Cursor) {
				t.Errorf("caught-up fetch: %d events, more %v, cursor %s (was %s)", len(idle.Events), idle.More, idle.Cursor, third.Cursor)
			}
			e.f.addActivities(2, 1, 52)
			later := fetch(t, c, entityActivities, idle.Cursor)
			if len(later.Events) != 2 || fetchedRecord(t, later.Events[0], entityActivities)["leadId"] != float64(52) {
				t.Errorf("after new activities: %d events", len(later.Events))
			}
			calls := e.f.restCalls()
			if calls[0].Path != "/rest/v1/activities/pagingtoken.json" || calls[0].Query.Get("sinceDatetime") != "2026-03-01T00:00:00Z" {
				t.Errorf("first call %s %v, want the paging token since the configured time", calls[0].Path, calls[0].Query)
			}
			for _, c := range calls[1:] {
				if c.Path != "/rest/v1/activities.json" {
					t.Errorf("unexpected call %s (only the first fetch needs a paging token)", c.Path)
					continue
				}
				if q := c.Query; q.Get("activityTypeIds") != "1,2,3,6,7,8,9,10,11,12" || q.Get("batchSize") != "3" || q.Get("nextPageToken") == "" {
					t.Errorf("activities query %v", q)
				}
			}
		})
	}
}

func TestLeadsFetchedFromChanges(t *testing.T) {
	for _, fm := range forms(t) {
		t.Run(fm.name, func(t *testing.T) {
			e := newEnv(t)
			e.f.addActivities(2, 1, 50)          // web visits: not lead changes
			e.f.addActivities(4, 13, 50, 51, 50) // data value changes
			e.f.addActivities(1, 12, 52)         // a new lead
			e.f.addActivities(1, 12, 99)         // deleted since
			c := e.connect(t, fm, map[string]any{"lead_fields": []string{"email", "firstName"}})
			res := fetch(t, c, entityLeads, nil)
			if res.More {
				t.Error("more = true after the whole stream")
			}
			var got []string
			for _, ev := range res.Events {
				rec := fetchedRecord(t, ev, entityLeads)
				id := strconv.Itoa(int(rec["id"].(float64)))
				got = append(got, id+":"+rec["email"].(string))
				if ev.DedupKey != "lead/"+id+"/2026-03-01T09:00:00Z" {
					t.Errorf("dedup key %q", ev.DedupKey)
				}
				if _, ok := rec["company"]; ok {
					t.Errorf("lead %s has company, which lead_fields does not name", id)
				}
			}
			if want := "50:anna.rossi@example.com 51:marco.bianchi@example.com 52:giulia.verdi@example.com"; strings.Join(got, " ") != want {
				t.Errorf("leads %q, want %q", strings.Join(got, " "), want)
			}
			calls := e.f.restCalls()
			last := calls[len(calls)-1]
			if last.Path != "/rest/v1/leads.json" || last.Query.Get("filterValues") != "50,51,52,99" || last.Query.Get("fields") != "id,updatedAt,email,firstName" {
				t.Errorf("lead lookup %s %v", last.Path, last.Query)
			}
			if q := calls[1].Query; q.Get("activityTypeIds") != leadChangeTypes {
				t.Errorf("activities query %v, want types %s", q, leadChangeTypes)
			}
		})
	}
}

func TestFetchRefuses(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, form{"native", func(*testing.T) pluginsdk.Connector { return New() }}, nil)
	for _, tc := range []struct {
		entity, cursor string
		want           string
	}{
		{"contacts", "", "unknown entity"},
		{entityActivities, "not json", "cursor"},
		{entityActivities, `{"other": 1}`, "cursor"},
	} {
		_, err := c.(pluginsdk.Fetcher).Fetch(context.Background(), &pluginsdk.FetchRequest{Entity: tc.entity, Cursor: []byte(tc.cursor)})
		if pe := asError(t, err); pe.Retryable || !strings.Contains(pe.Message, tc.want) {
			t.Errorf("Fetch(%s, %q): %v (retryable %v), want a permanent error about %s", tc.entity, tc.cursor, pe, pe.Retryable, tc.want)
		}
	}
	// A paging token Marketo refuses is reported with its code.
	_, err := c.(pluginsdk.Fetcher).Fetch(context.Background(), &pluginsdk.FetchRequest{Entity: entityActivities, Cursor: encodeCursor("bogus")})
	if pe := asError(t, err); pe.Code != "marketo_1001" || pe.Retryable {
		t.Errorf("bogus token: %v", pe)
	}
}

func TestFixtureActivity(t *testing.T) {
	r, err := parseResponse(fixture(t, "activities-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	acts, err := fields.Elements(r.result)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := activityEvents(acts)
	if err != nil || len(evs) != 1 {
		t.Fatalf("events %v, %v", evs, err)
	}
	ev := evs[0]
	if ev.DedupKey != "activity/102988" || !ev.Time.Equal(time.Date(2026, 3, 2, 10, 20, 0, 0, time.UTC)) {
		t.Errorf("dedup %q time %v", ev.DedupKey, ev.Time)
	}
	rec := fetchedRecord(t, ev, entityActivities)
	if rec["primaryAttributeValue"] != "localhost/page.html" || len(rec["attributes"].([]any)) != 2 {
		t.Errorf("record %v", rec)
	}
}

func TestMetadata(t *testing.T) {
	for _, fm := range forms(t) {
		t.Run(fm.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.connect(t, fm, map[string]any{"lead_fields": []string{"email", "company", "favouriteColour"}})
			md, err := c.(pluginsdk.MetadataProvider).Metadata(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(md.Entities) != 2 || md.Entities[0].Name != entityLeads || md.Entities[1].Name != entityActivities {
				t.Fatalf("entities %+v", md.Entities)
			}
			var got []string
			for _, f := range md.Entities[0].Fields {
				got = append(got, f.Name+"/"+f.Type+"/"+f.DisplayName)
			}
			want := "id/integer/Id updatedAt/datetime/Updated At email/email/Email Address company/string/Company Name favouriteColour/unknown/favouriteColour (not a field of this Marketo instance)"
			if strings.Join(got, " ") != want {
				t.Errorf("lead fields\n got  %s\n want %s", strings.Join(got, " "), want)
			}
		})
	}
}
