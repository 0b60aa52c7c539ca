package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// junctionCLI runs the built binary against the hub and returns its output
// and exit status.
func junctionCLI(t *testing.T, h *hubProc, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(junctionBinary(t), args...)
	if h != nil {
		cmd.Env = append(cmd.Environ(), "JUNCTION_SERVER="+h.APIURL, "JUNCTION_ADMIN_TOKEN="+h.Token)
	}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestCLIAgainstRunningHub(t *testing.T) {
	s := newSink(t)
	h := startHub(t, copyConfigs(t, "testdata/spine"), t.TempDir(), spineEnv(s), "")
	dir := t.TempDir()

	good := filepath.Join(dir, "good.json")
	writeFile(t, good, `{"kind":"order","id":"CLI-1","total":"7"}`)
	out, code := junctionCLI(t, h, "workflow", "run", "orders-to-sink", "--input", good)
	if code != 0 || !strings.Contains(out, `"status": "completed"`) || !strings.Contains(out, `"test": true`) {
		t.Fatalf("workflow run (exit %d):\n%s", code, out)
	}

	bad := filepath.Join(dir, "bad.json")
	writeFile(t, bad, `{"kind":"order","id":"CLI-2","total":"seven"}`)
	out, code = junctionCLI(t, h, "workflow", "run", "orders-to-sink", "--input", bad)
	if code != 1 || !strings.Contains(out, "total") {
		t.Fatalf("a failing test run must exit 1 naming the field (exit %d):\n%s", code, out)
	}

	out, code = junctionCLI(t, h, "runs", "list", "--status", "failed")
	if code != 0 || !strings.Contains(out, "orders-to-sink") || strings.Count(out, "\n") != 2 {
		t.Fatalf("runs list --status failed (exit %d), want a header and one run:\n%s", code, out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	out, code = junctionCLI(t, h, "runs", "show", id)
	if code != 0 || !strings.Contains(out, "CLI-2") {
		t.Fatalf("runs show %s (exit %d):\n%s", id, code, out)
	}

	out, code = junctionCLI(t, h, "workflow", "list")
	if code != 0 || !strings.Contains(out, "orders-to-sink") {
		t.Fatalf("workflow list (exit %d):\n%s", code, out)
	}
	out, code = junctionCLI(t, h, "connection", "show", "sink-out")
	if code != 0 || strings.Contains(out, "sink-secret") || !strings.Contains(out, "<redacted>") {
		t.Fatalf("connection show must redact the signing secret (exit %d):\n%s", code, out)
	}

	// Usage errors exit 2; a missing token is a user error (1).
	if _, code = junctionCLI(t, h, "runs", "list", "--bogus"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if _, code = junctionCLI(t, nil, "runs", "list"); code != 1 {
		t.Errorf("no token: exit %d, want 1", code)
	}
}

func TestMappingInfer(t *testing.T) {
	sample := filepath.Join(t.TempDir(), "sample.json")
	writeFile(t, sample, `{"type":"track","event":"Transaction Created","properties":{"revenue":12.5,"currency":"EUR"},"context":{"traits":{"email":"a@b.c"}},"userId":"u1"}`)
	out, code := junctionCLI(t, nil, "mapping", "infer", sample)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"fields:", "$.properties.revenue", "type: number", "$.context.traits.email", "type: string"} {
		if !strings.Contains(out, want) {
			t.Errorf("infer output lacks %q:\n%s", want, out)
		}
	}
}
