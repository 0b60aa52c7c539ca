package console

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/junctionhub/junction/core/store"
)

// TestDryRunTestData: the form's "Dry run" button shows what each task
// would receive and stores no run; like Run, it needs the CSRF token.
func TestDryRunTestData(t *testing.T) {
	f := newFixture(t, nil)
	b := f.login()
	page := b.get("/workflows/orders")
	mustContain(t, page.Body, `name="mode" value="dry-run"`, "Dry run (perform nothing)", "tasks really run and call their targets")

	resp := b.submit("/workflows/orders/test", url.Values{"payload": {`{"kind":"order","id":"D-1"}`}, "mode": {"dry-run"}})
	if resp.Status != http.StatusOK {
		t.Fatalf("dry run: %d", resp.Status)
	}
	mustContain(t, resp.Body, "Dry run: nothing was performed", "<code>deliver</code>", "rendered", "&#34;order&#34;: &#34;D-1&#34;")

	resp = b.submit("/workflows/orders/test", url.Values{"payload": {`{"kind":"refund"}`}, "mode": {"dry-run"}})
	mustContain(t, resp.Body, "the filter did not match this payload")

	// Without the token the form is refused before anything is rendered.
	if resp := b.post("/workflows/orders/test", url.Values{"payload": {`{"kind":"order","id":"D-2"}`}, "mode": {"dry-run"}}); resp.Status != http.StatusForbidden {
		t.Errorf("without csrf: %d, want 403", resp.Status)
	}
	runs, _, err := f.st.Runs().List(t.Context(), store.RunFilter{})
	if err != nil || len(runs) != 0 {
		t.Errorf("dry runs stored %d run(s) (%v), want none", len(runs), err)
	}
}
