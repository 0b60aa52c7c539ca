package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPeerFiltersAndMaps runs the embedded config and checks that it does
// the workflow's work: every body is a record of the event file, and only
// events passing all three conditions reach the matched file, mapped to the
// five typed fields.
func TestPeerFiltersAndMaps(t *testing.T) {
	track, err := os.ReadFile("testdata/track.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("PEER_ADDR", addr)
	t.Setenv("PEER_OUT", filepath.Join(dir, "events"))
	t.Setenv("PEER_MATCHED", filepath.Join(dir, "matched.jsonl"))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, config) }()
	waitReady(t, "http://"+addr+"/ready", done)

	completed := bytes.Replace(track, []byte(`"Transaction Created"`), []byte(`"Order Completed"`), 1)
	posts := []struct {
		name  string
		body  []byte
		match string // the matched file's line, "" when the filter drops it
	}{
		{"workload event, filter does not match", track, ""},
		{"all three conditions hold", completed,
			`{"currency":"EUR","email":"giulia.rossi@example.com","order_id":"ORD-50314","revenue":129.9,"user_id":"97980cfea0067"}`},
		{"revenue not above zero", bytes.Replace(completed, []byte(`"revenue": 129.9`), []byte(`"revenue": 0`), 1), ""},
		{"not a track call", bytes.Replace(completed, []byte(`"type": "track"`), []byte(`"type": "page"`), 1), ""},
		{"no revenue at all", bytes.Replace(completed, []byte(`"revenue": 129.9,`), nil, 1), ""},
		{"not JSON", []byte("not json"), ""},
	}
	var want []string
	for _, p := range posts {
		resp, err := http.Post("http://"+addr+"/hooks/segment-in", "application/json", bytes.NewReader(p.body))
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d, want 200", p.name, resp.StatusCode)
		}
		if p.match != "" {
			want = append(want, p.match)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}

	events, err := os.ReadFile(filepath.Join(dir, "events"))
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(events, []byte{0x1e}); n != len(posts) {
		t.Errorf("event file holds %d records, want %d", n, len(posts))
	}
	matched, err := os.ReadFile(filepath.Join(dir, "matched.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Split(strings.TrimSpace(string(matched)), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("matched file:\n%s\nwant:\n%s", matched, strings.Join(want, "\n"))
	}
}

func TestRunNeedsItsEnvironment(t *testing.T) {
	t.Setenv("PEER_ADDR", "")
	if err := run(context.Background(), config); err == nil || !strings.Contains(err.Error(), "PEER_ADDR") {
		t.Fatalf("run without PEER_ADDR: %v, want an error naming it", err)
	}
}

func waitReady(t *testing.T, url string, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("peer stopped before it was ready: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	t.Fatalf("peer not ready at %s", url)
}
