package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/junctionhub/junction/builtin/sftp/sftptest"
)

// doctorRun runs `junction doctor` in dir (the repository root for the
// quick start, whose plugin_dirs are relative) and returns its stdout and
// exit status.
func doctorRun(t *testing.T, dir string, env map[string]string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(junctionBinary(t), append([]string{"doctor"}, args...)...)
	cmd.Dir = dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), code
}

// doctorLines returns the report lines with the given status.
func doctorLines(out, status string) []string {
	var got []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, status+" ") {
			got = append(got, l)
		}
	}
	return got
}

// TestDoctorQuickStart: the quick-start configuration passes. Its remotes
// are placeholders that do not resolve here, which is a warning, not a
// failure; nothing is created in the data dir.
func TestDoctorQuickStart(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out, code := doctorRun(t, "..", nil, "--config", "configs", "--data", data)
	if code != 0 || len(doctorLines(out, "FAIL")) != 0 {
		t.Fatalf("doctor on the quick start: exit %d\n%s", code, out)
	}
	for _, want := range []string{"ok    config: configs: ", "ok    data dir: ", "ok    disk: ", "ok    time zones: UTC", "connection sftp-profiles: "} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Errorf("doctor created the data dir (%v)", err)
	}

	// --json carries the same checks.
	js, code := doctorRun(t, "..", nil, "--config", "configs", "--data", data, "--json")
	var rep struct {
		Checks []struct{ Status, Name, Detail string } `json:"checks"`
		Fail   int                                     `json:"fail"`
		Passed bool                                    `json:"passed"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil || code != 0 {
		t.Fatalf("doctor --json: exit %d, %v\n%s", code, err, js)
	}
	if !rep.Passed || rep.Fail != 0 || len(rep.Checks) != strings.Count(out, "\n")-1 {
		t.Errorf("--json: passed %v, %d failed, %d checks; the text report has %d lines", rep.Passed, rep.Fail, len(rep.Checks), strings.Count(out, "\n")-1)
	}
}

const doctorSFTPConfig = `apiVersion: junction/v1
kind: Settings
spec:
  retention: {min_free_bytes: %s}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: partner-files}
spec:
  connector: sftp
  auth: {type: basic, username: junction, password: pw}
  network: {allow_private: true}   # the doctor dials loopback only where allowed
  config:
    host: "${SFTP_HOST}"
    port: ${SFTP_PORT}
    host_key_fingerprint: "${SFTP_FINGERPRINT}"
    entities:
      - {name: profiles, path: /inbound, glob: "*.csv", format: csv}
`

// TestDoctorFindsBrokenHostKeyAndFullDisk: against a real loopback SFTP
// server, a pinned host key that is not the server's is a FAIL (and the
// right one passes); a data dir whose file system has less free space than
// retention.min_free_bytes is a FAIL. Each exits 1.
func TestDoctorFindsBrokenHostKeyAndFullDisk(t *testing.T) {
	srv := sftptest.Start(t)
	srv.AddUser("junction", "pw")
	if err := os.MkdirAll(srv.Local("/inbound"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := t.TempDir()
	writeFile(t, filepath.Join(cfg, "hub.yaml"), fmt.Sprintf(doctorSFTPConfig, "32MiB"))
	data := t.TempDir()

	out, code := doctorRun(t, ".", sftpEnv(srv), "--config", cfg, "--data", data)
	if code != 0 || !strings.Contains(out, "ok    connection partner-files: host key: matches") ||
		!strings.Contains(out, "ok    connection partner-files: entity profiles path: /inbound is a directory") {
		t.Fatalf("doctor with the right host key: exit %d\n%s", code, out)
	}
	if srv.Requests("Stat") == 0 {
		t.Error("the probe did not stat the entity's directory")
	}
	before := touched(srv)

	env := sftpEnv(srv)
	env["SFTP_FINGERPRINT"] = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	out, code = doctorRun(t, ".", env, "--config", cfg, "--data", data)
	fails := doctorLines(out, "FAIL")
	want := "FAIL  connection partner-files: host key: sftp host " + srv.Addr + ": host key mismatch: server offered " + srv.Fingerprint()
	if code != 1 || len(fails) != 1 || !strings.HasPrefix(fails[0], want) {
		t.Fatalf("doctor with a wrong host key: exit %d, FAIL lines %q; want one starting %q\n%s", code, fails, want, out)
	}
	if after := touched(srv); after != 0 || before != 0 {
		t.Errorf("the doctor listed, read or changed files on the SFTP server (%d requests)", before+after)
	}

	// The disk: a real full tmpfs where this machine lets us mount one,
	// else a reserve larger than the free space, which is the same
	// condition to the store's disk guard.
	dataFull, reserve := fullDisk(t)
	writeFile(t, filepath.Join(cfg, "hub.yaml"), fmt.Sprintf(doctorSFTPConfig, reserve))
	out, code = doctorRun(t, ".", sftpEnv(srv), "--config", cfg, "--data", dataFull)
	fails = doctorLines(out, "FAIL")
	if code != 1 || len(fails) != 1 || !strings.HasPrefix(fails[0], "FAIL  disk: ") ||
		!strings.Contains(fails[0], "below retention.min_free_bytes") || !strings.Contains(fails[0], "pushes get 503") {
		t.Fatalf("doctor on a full disk: exit %d, FAIL lines %q\n%s", code, fails, out)
	}
}

// touched counts the SFTP requests that list, read or change files.
func touched(srv *sftptest.Server) int {
	n := 0
	for _, m := range []string{"List", "Get", "Put", "Rename", "PosixRename", "Remove", "Mkdir", "Rmdir", "Setstat", "Symlink"} {
		n += srv.Requests(m)
	}
	return n
}

// fullDisk returns a data dir on a file system with less free space than
// the returned retention.min_free_bytes.
func fullDisk(t *testing.T) (string, string) {
	t.Helper()
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Logf("no tmpfs (%v: %s); using a reserve above the free space", err, out)
		var st syscall.Statfs_t
		if err := syscall.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		free := int64(st.Bavail) * int64(st.Bsize)
		return mnt, fmt.Sprintf("%d", free+1<<30)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	f, err := os.Create(filepath.Join(mnt, "ballast"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for freeBytes(t, mnt) > 16<<20 {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
	}
	data := filepath.Join(mnt, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	return data, "32MiB"
}
