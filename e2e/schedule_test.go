package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/sftp/sftptest"
)

// TestPullConnectionOperations runs a hub with a scheduled sftp connection
// and uses the CLI on it: fetch now with progress and summary, the data
// overview, webhook key rotation, and reconnect with new credentials; then
// restarts the hub and checks that the schedule, the cursor, the overview
// and the replaced credentials all survived.
func TestPullConnectionOperations(t *testing.T) {
	// An unknown subcommand's --help prints the parent's help: look for a
	// flag of fetch itself.
	if out, _ := junctionCLI(t, nil, "connection", "fetch", "--help"); !strings.Contains(out, "--metadata-only") {
		t.Fatalf("`junction connection fetch --help` does not show --metadata-only:\n%s", out)
	}
	srv := sftptest.Start(t)
	srv.AddUser("junction", "pw")
	inbound := filepath.Join(srv.Root, "inbound")
	upload := func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(inbound, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(inbound, name)
		writeFile(t, p, body)
		old := time.Now().Add(-time.Hour) // older than the connector's min_age
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	upload("a.csv", "email,country\nann@example.com,IT\nbob@example.com,\ncid@example.com,IT\n")

	configs := t.TempDir()
	writeFile(t, filepath.Join(configs, "partner.yaml"), fmt.Sprintf(`apiVersion: junction/v1
kind: Connection
metadata: {name: partner}
spec:
  connector: sftp
  auth: {type: basic, username: junction, password: pw}
  config:
    host: %s
    port: %d
    host_key_fingerprint: "%s"
    entities:
      - {name: contacts, path: /inbound, glob: "*.csv", archive_dir: /archive}
  schedule: {every: 24h, start: "02:00", timezone: America/New_York}
`, srv.Host(), srv.Port(), srv.Fingerprint()))
	if out, code := junctionCLI(t, nil, "validate", configs); code != 0 {
		t.Fatalf("validate the sftp connection:\n%s", out)
	}
	data := t.TempDir()
	h := startHub(t, configs, data, nil, "")

	var sched struct {
		Schedules []struct {
			Key  string
			Next time.Time
		}
	}
	if code := h.api("GET", "/schedules", nil, &sched); code != 200 || len(sched.Schedules) != 1 || sched.Schedules[0].Key != "connection/partner" {
		t.Fatalf("schedules: %d %+v", code, sched)
	}
	ny, _ := time.LoadLocation("America/New_York")
	next := sched.Schedules[0].Next
	if l := next.In(ny); l.Hour() != 2 && !(l.Hour() == 3 && l.Month() == 3) || l.Minute() != 0 || time.Until(next) > 24*time.Hour {
		t.Errorf("next scheduled fetch %s, want the next 02:00 New York time", l)
	}

	out, code := junctionCLI(t, h, "connection", "fetch", "partner")
	if code != 0 || !strings.Contains(out, "completed: 3 records") {
		t.Fatalf("connection fetch (exit %d):\n%s", code, out)
	}
	out, code = junctionCLI(t, h, "connection", "stats", "partner", "--entity", "contacts", "--field", "country")
	if code != 0 || !strings.Contains(out, "3 rows, 2 values, 1 null") || !strings.Contains(out, "Top values (exact)") {
		t.Fatalf("connection stats (exit %d):\n%s", code, out)
	}
	rotated, code := junctionCLI(t, h, "connection", "key", "rotate", "partner")
	if code != 0 || !strings.HasPrefix(rotated, "jwk_") {
		t.Fatalf("key rotate (exit %d): %s", code, rotated)
	}

	// The partner changes the password (and drops the open session):
	// fetches fail until a reconnect.
	srv.AddUser("junction", "pw2")
	srv.DropConnections()
	upload("b.csv", "email,country\ndan@example.com,DE\n")
	out, code = junctionCLI(t, h, "connection", "fetch", "partner")
	if code != 1 || !strings.Contains(out, "failed") {
		t.Fatalf("fetch with the old password (exit %d):\n%s", code, out)
	}
	cmd := junctionCmd(t, h, "connection", "reconnect", "partner", "--type", "basic", "--username", "junction")
	cmd.Stdin = strings.NewReader("pw2\n")
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "cursors kept") {
		t.Fatalf("reconnect: %v\n%s", err, b)
	}
	out, code = junctionCLI(t, h, "connection", "fetch", "partner")
	if code != 0 || !strings.Contains(out, "completed: 1 records") {
		t.Fatalf("fetch after reconnect (exit %d), want only the new file:\n%s", code, out)
	}

	// Restart: the YAML still says pw; the stored credentials win.
	h.Stop()
	h = startHub(t, configs, data, nil, "")
	if code := h.api("GET", "/schedules", nil, &sched); code != 200 || !sched.Schedules[0].Next.Equal(next) {
		t.Errorf("next run after restart %+v, want %s kept", sched, next)
	}
	out, code = junctionCLI(t, h, "connection", "fetch", "partner")
	if code != 0 || !strings.Contains(out, "completed: 0 records") {
		t.Fatalf("fetch after restart (exit %d), want nothing new:\n%s", code, out)
	}
	out, code = junctionCLI(t, h, "connection", "stats", "partner")
	if code != 0 || !strings.Contains(out, "4 in 1 entities") {
		t.Fatalf("stats after restart (exit %d):\n%s", code, out)
	}
	if out, _ := junctionCLI(t, h, "connection", "key", "show", "partner"); out != rotated {
		t.Errorf("key after restart %q, want %q", out, rotated)
	}
}

// junctionCmd is the CLI command against h, for a test that sets stdin.
func junctionCmd(t *testing.T, h *hubProc, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(junctionBinary(t), args...)
	cmd.Env = append(cmd.Environ(), "JUNCTION_SERVER="+h.APIURL, "JUNCTION_ADMIN_TOKEN="+h.Token)
	return cmd
}
