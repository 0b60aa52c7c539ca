package server

import (
	"regexp"
	"strconv"
	"testing"
)

// TestCommitMetrics: /metrics counts the store's group commits and the ops
// they carried, so an accepted push shows up in both.
func TestCommitMetrics(t *testing.T) {
	s, _ := newTestServer(t, nil)
	read := func(name string) float64 {
		t.Helper()
		_, body := do(t, s, "GET", "/metrics", "")
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics lacks %s", name)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	commits, ops := read("junction_store_commits_total"), read("junction_store_commit_ops_total")
	if status, _ := do(t, s, "POST", "/hooks/echo", "1\n2"); status != 200 {
		t.Fatalf("push answered %d", status)
	}
	if c := read("junction_store_commits_total"); c < commits+1 {
		t.Errorf("commits %v after a push, were %v", c, commits)
	}
	if o := read("junction_store_commit_ops_total"); o < ops+1 {
		t.Errorf("commit ops %v after a push, were %v", o, ops)
	}
	if sec := read("junction_store_commit_seconds_total"); sec <= 0 {
		t.Errorf("commit seconds %v, want > 0", sec)
	}
}
