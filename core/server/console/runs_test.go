package console

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
)

func TestRunsFilter(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } })
	ok := f.testRun(`{"kind":"order","id":"OK-1"}`)
	bad := f.testRun(`{"kind":"order","id":"BAD-1","fail":true}`)
	skipped := f.testRun(`{"kind":"other"}`)
	if ok.Status != store.StatusCompleted || bad.Status != store.StatusFailed || skipped.Status != store.StatusSkipped {
		t.Fatalf("statuses: %s %s %s", ok.Status, bad.Status, skipped.Status)
	}
	b := f.login()
	tests := []struct {
		query     string
		want      []string
		wantNot   []string
		wantState int
	}{
		{"", []string{ok.ID, bad.ID, skipped.ID}, nil, 200},
		{"?status=failed", []string{bad.ID}, []string{ok.ID, skipped.ID}, 200},
		{"?status=completed&workflow=orders", []string{ok.ID}, []string{bad.ID, skipped.ID}, 200},
		{"?workflow=audit", nil, []string{ok.ID, bad.ID, skipped.ID}, 200},
		// The console's clock is two hours ahead: runs of "now" are not in
		// its last hour, but are in its last 24 hours.
		{"?since=1h", nil, []string{ok.ID, bad.ID, skipped.ID}, 200},
		{"?since=24h&status=failed", []string{bad.ID}, []string{ok.ID}, 200},
		{"?status=exploded", nil, []string{ok.ID}, 400},
		{"?since=yesterday", nil, []string{ok.ID}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp := b.get("/runs" + tt.query)
			if resp.Status != tt.wantState {
				t.Fatalf("status %d, want %d", resp.Status, tt.wantState)
			}
			for _, id := range tt.want {
				if !strings.Contains(resp.Body, `href="/runs/`+id+`"`) {
					t.Errorf("run %s missing", id)
				}
			}
			for _, id := range tt.wantNot {
				if strings.Contains(resp.Body, `href="/runs/`+id+`"`) {
					t.Errorf("run %s listed, should be filtered out", id)
				}
			}
		})
	}
	// The filter form keeps what was chosen.
	resp := b.get("/runs?status=failed&workflow=orders")
	mustContain(t, resp.Body, `<option value="failed" selected>`, `<option value="orders" selected>`)
	// The failed run's list row shows its task's error.
	mustContain(t, resp.Body, "order BAD-1 rejected")
}

func TestRunsPagination(t *testing.T) {
	f := newFixture(t, nil)
	var ids []string
	for range 52 {
		ids = append(ids, f.testRun(`{"kind":"order","id":"P"}`).ID)
	}
	b := f.login()
	first := b.get("/runs")
	if strings.Contains(first.Body, ids[0]) || !strings.Contains(first.Body, ids[51]) {
		t.Fatal("the first page should hold the 50 newest runs")
	}
	i := strings.Index(first.Body, "Older runs")
	if i < 0 {
		t.Fatal("no link to older runs")
	}
	href := first.Body[strings.LastIndex(first.Body[:i], `href="`)+6:]
	href = html.UnescapeString(href[:strings.Index(href, `"`)])
	second := b.get(href)
	if !strings.Contains(second.Body, ids[0]) || !strings.Contains(second.Body, ids[1]) || strings.Contains(second.Body, ids[51]) {
		t.Errorf("second page (%s) should hold the 2 oldest runs", href)
	}
}

func TestRunPageShowsTaskError(t *testing.T) {
	f := newFixture(t, nil)
	bad := f.testRun(`{"kind":"order","id":"BAD-7","fail":true}`)
	b := f.login()
	resp := b.get("/runs/" + bad.ID)
	if resp.Status != http.StatusOK {
		t.Fatalf("GET run = %d", resp.Status)
	}
	mustContain(t, resp.Body,
		`<p class="error-message">sink-out: POST /deliver: HTTP 400 Bad Request: order BAD-7 rejected</p>`,
		`<code>http_400</code>`, "Permanent: not retried.",
		// The input payload, pretty printed; the task's rendered input.
		"&#34;id&#34;: &#34;BAD-7&#34;", "&#34;order&#34;: &#34;BAD-7&#34;",
		`<span class="badge st-failed">failed</span>`,
		`action="/runs/`+bad.ID+`/replay"`, "Replay this run",
		"<dt>Attempts</dt><dd>1</dd>",
	)
	good := f.testRun(`{"kind":"order","id":"OK-7"}`)
	resp = b.get("/runs/" + good.ID)
	mustContain(t, resp.Body, "&#34;accepted&#34;: true", `<span class="badge st-completed">completed</span>`)
	if strings.Contains(resp.Body, "Replay this run") {
		t.Error("a completed run offers a replay")
	}
	if resp := b.get("/runs/run_nope"); resp.Status != http.StatusNotFound {
		t.Errorf("GET unknown run = %d, want 404", resp.Status)
	}
}

func TestReplayCreatesNewRun(t *testing.T) {
	f := newFixture(t, nil)
	bad := f.testRun(`{"kind":"order","id":"BAD-9","fail":true}`)
	b := f.login()
	resp := b.submit("/runs/"+bad.ID+"/replay", nil)
	if resp.Status != http.StatusSeeOther || !strings.HasPrefix(resp.Location, "/runs/run_") || resp.Location == "/runs/"+bad.ID {
		t.Fatalf("replay: %d to %q, want 303 to a new run", resp.Status, resp.Location)
	}
	newID := strings.TrimPrefix(resp.Location, "/runs/")
	r, err := f.st.Runs().Get(t.Context(), newID)
	if err != nil {
		t.Fatal(err)
	}
	if r.ReplayOf != bad.ID || r.Workflow != "orders" || string(r.Input) != string(bad.Input) {
		t.Errorf("new run: replayOf %q workflow %q input %s", r.ReplayOf, r.Workflow, r.Input)
	}
	page := b.get(resp.Location)
	mustContain(t, page.Body, "Replaying run "+bad.ID+" as "+newID+".", `href="/runs/`+bad.ID+`"`, "Replay of")
	// The notice is shown once.
	if again := b.get(resp.Location); strings.Contains(again.Body, "Replaying run") {
		t.Error("the replay notice shows twice")
	}
	// An unknown run cannot be replayed.
	if missing := b.submit("/runs/run_missing/replay", url.Values{}); missing.Status != http.StatusNotFound {
		t.Errorf("replay of an unknown run = %d, want 404", missing.Status)
	}
}
