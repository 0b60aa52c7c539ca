package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkflowRunDryRun: `workflow run --input FILE --dry-run` against a
// workflow whose tasks post to a loopback sink prints the fields and the
// rendered request, credentials redacted, and the sink receives nothing
// and no run is stored; the same command without --dry-run does post.
func TestWorkflowRunDryRun(t *testing.T) {
	s := newSink(t)
	env := spineEnv(s)
	env["PARTNER_TOKEN"] = "partner-secret-value"
	h := startHub(t, copyConfigs(t, "testdata/dryrun"), t.TempDir(), env, "")
	input := filepath.Join(t.TempDir(), "order.json")
	writeFile(t, input, `{"kind":"order","id":"DRY-1","total":"12.5"}`)

	out, code := junctionCLI(t, h, "workflow", "run", "orders-to-sink", "--input", input, "--dry-run")
	if code != 0 {
		t.Fatalf("workflow run --dry-run: exit %d:\n%s", code, out)
	}
	t.Logf("workflow run --dry-run:\n%s", out)
	for _, want := range []string{
		"dry run of orders-to-sink: nothing was performed and no run was stored",
		`"order": "DRY-1"`, `"total": 12.5`, // fields and the body
		"task deliver (sink-out.post): rendered",
		`"source": "junction"`, `"X-Order": "DRY-1"`,
		`"X-Partner": "<redacted>"`, // written as ${PARTNER_TOKEN}
		"task confirm (sink-out.post): not rendered",
		"depends on deliver output, not rendered",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "partner-secret-value") {
		t.Errorf("dry run output shows the token:\n%s", out)
	}
	if n := len(s.delivered()); n != 0 {
		t.Fatalf("the sink received %d post(s) from a dry run", n)
	}
	var runs struct {
		Runs []map[string]any `json:"runs"`
	}
	h.api("GET", "/runs", nil, &runs)
	if len(runs.Runs) != 0 {
		t.Fatalf("a dry run stored %d run(s)", len(runs.Runs))
	}

	// Without --dry-run the same payload really posts, twice (deliver, then
	// confirm with deliver's output): the dry run was the only difference.
	out, code = junctionCLI(t, h, "workflow", "run", "orders-to-sink", "--input", input)
	if code != 0 || !strings.Contains(out, `"status": "completed"`) {
		t.Fatalf("workflow run: exit %d:\n%s", code, out)
	}
	if n := len(s.delivered()); n != 2 {
		t.Fatalf("the sink received %d post(s), want 2", n)
	}
}
