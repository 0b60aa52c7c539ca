package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
)

func TestWorkflowsList(t *testing.T) {
	f := newFixture(t, nil)
	f.testRun(`{"kind":"order","id":"A"}`)
	last := f.testRun(`{"kind":"order","id":"B","fail":true}`)
	b := f.login()
	resp := b.get("/workflows")
	mustContain(t, resp.Body,
		`<a href="/workflows/orders">orders</a>`, "Orders to the sink",
		`events of <a href="/connections/orders-in">orders-in</a>`,
		// The last run, and the counts of the last 24 hours by status.
		`<a href="/runs/`+last.ID+`"><span class="badge st-failed">failed</span></a>`,
		`href="/runs?workflow=orders&amp;status=completed&amp;since=24h"><span class="badge st-completed">completed</span> 1</a>`,
		`href="/runs?workflow=orders&amp;status=failed&amp;since=24h"><span class="badge st-failed">failed</span> 1</a>`,
		"never ran", // audit
	)
}

func TestWorkflowPage(t *testing.T) {
	f := newFixture(t, nil)
	b := f.login()
	resp := b.get("/workflows/orders")
	mustContain(t, resp.Body,
		"<h1>Workflow orders</h1>", "kind: Workflow", // the YAML
		"<code>$.kind</code>", "<code>sink-out.post</code>", "1 attempt (no retry)",
		`<label for="payload">Test payload (JSON)</label>`, "Capture next event",
	)
	if resp := b.get("/workflows/nope"); resp.Status != http.StatusNotFound {
		t.Errorf("unknown workflow = %d", resp.Status)
	}
}

func TestRunTestData(t *testing.T) {
	f := newFixture(t, nil)
	b := f.login()

	resp := b.submit("/workflows/orders/test", url.Values{"payload": {`{"kind":"order","id":"T-1"}`}})
	if resp.Status != http.StatusSeeOther || !strings.HasPrefix(resp.Location, "/runs/run_") {
		t.Fatalf("test data: %d to %q", resp.Status, resp.Location)
	}
	r, err := f.st.Runs().Get(t.Context(), strings.TrimPrefix(resp.Location, "/runs/"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Test || r.Status != store.StatusCompleted || r.Fields["id"] != "T-1" {
		t.Errorf("test run: test=%v status=%s fields=%v", r.Test, r.Status, r.Fields)
	}
	page := b.get(resp.Location)
	mustContain(t, page.Body, "Test run finished with status completed.", "test data")

	tests := []struct{ payload, want string }{
		{`{"kind":`, "The payload is not valid JSON"},
		{``, "Paste a JSON payload"},
	}
	for _, tt := range tests {
		resp := b.submit("/workflows/orders/test", url.Values{"payload": {tt.payload}})
		if resp.Status != http.StatusBadRequest {
			t.Errorf("payload %q: status %d, want 400", tt.payload, resp.Status)
		}
		mustContain(t, resp.Body, tt.want, `aria-invalid="true"`)
		if tt.payload != "" {
			// The pasted text is kept for correcting.
			mustContain(t, resp.Body, "{&#34;kind&#34;:</textarea>")
		}
	}
}

func TestCaptureNextEvent(t *testing.T) {
	f := newFixture(t, nil)
	b := f.login()
	log := f.st.Log()
	// An event from before the capture is not the next one.
	if _, err := log.Append(t.Context(), []store.AppendRequest{{Connection: "orders-in", Payload: json.RawMessage(`{"old":true}`)}}); err != nil {
		t.Fatal(err)
	}

	done := make(chan response, 1)
	go func() { done <- b.submit("/workflows/orders/capture", nil) }()
	// The capture starts at some point after the request is sent; keep
	// sending until it answers. Each round also sends an event of another
	// connection first, which the capture must skip.
	var resp response
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for i := 0; ; i++ {
		select {
		case resp = <-done:
			break wait
		case <-tick.C:
		}
		_, err := log.Append(context.Background(), []store.AppendRequest{
			{Connection: "crm-feed", Payload: json.RawMessage(`{"other":"connection"}`)},
			{Connection: "orders-in", Payload: json.RawMessage(`{"type":"track","properties":{"order_id":"C-1","revenue":12.5},"context":{"traits":{"email":"ada@example.com"}},"paid":"true"}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("capture = %d\n%s", resp.Status, resp.Body)
	}
	mustContain(t, resp.Body,
		"Captured event <code>evt_",
		"&#34;order_id&#34;: &#34;C-1&#34;",
		// Inferred fields, as a table and as a fields: block.
		"<code>$.context.traits.email</code>", "<code>$.properties.revenue</code></td><td>number</td>",
		"<code>$.paid</code></td><td>boolean</td>",
		"email: {path: $.context.traits.email, type: string}",
	)
	if strings.Contains(resp.Body, "&#34;old&#34;") || strings.Contains(resp.Body, "&#34;other&#34;") {
		t.Error("the capture showed an event from before it started or of another connection")
	}
	// The payload is ready in the test box.
	if !strings.Contains(resp.Body, `name="payload" rows="12" spellcheck="false" required>{
  &#34;type&#34;: &#34;track&#34;`) {
		t.Errorf("the captured payload is not in the test payload box:\n%s", resp.Body)
	}
}

func TestCaptureTimesOut(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.CaptureTimeout = 50 * time.Millisecond })
	b := f.login()
	resp := b.submit("/workflows/orders/capture", nil)
	if resp.Status != http.StatusOK {
		t.Fatalf("capture = %d", resp.Status)
	}
	mustContain(t, resp.Body, "No event arrived on orders-in within 50.0ms")
}

func TestCaptureEndsOnClose(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.CaptureTimeout = time.Hour })
	b := f.login()
	done := make(chan response, 1)
	go func() { done <- b.submit("/workflows/orders/capture", nil) }()
	f.console.Close()
	resp := <-done
	if resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("capture while closing = %d, want 503", resp.Status)
	}
	mustContain(t, resp.Body, "shutting down")
}
