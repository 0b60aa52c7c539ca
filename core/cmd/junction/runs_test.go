package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// deepPayload nests n arrays around a string.
func deepPayload(n int) []byte {
	return []byte(strings.Repeat("[", n) + `"core"` + strings.Repeat("]", n))
}

// runsAPI serves /runs, /runs/{id} and /workflows/{name}/run the way the
// server does (encoding/json over store.Run) with one run whose input and
// task output are nested 10,000 deep.
func runsAPI(t *testing.T) string {
	t.Helper()
	deep := json.RawMessage(deepPayload(10000))
	run := &store.Run{
		ID: "run_deep", Workflow: "wf", Status: store.StatusFailed, Error: "task 1 failed",
		Input: deep, CreatedAt: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC),
		Tasks: []store.TaskRun{{Name: "t", Uses: "x.y", Status: "failed", Output: deep}},
	}
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("server encode: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}
	mux.HandleFunc("GET /api/v1/runs", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]any{"runs": []*store.Run{run, {ID: "run_flat", Workflow: "wf", Status: "completed", Input: json.RawMessage(`{"a":1}`)}}})
	})
	mux.HandleFunc("GET /api/v1/runs/run_deep", func(w http.ResponseWriter, r *http.Request) { answer(w, map[string]any{"run": run}) })
	mux.HandleFunc("POST /api/v1/workflows/wf/run", func(w http.ResponseWriter, r *http.Request) { answer(w, map[string]any{"run": run}) })
	mux.HandleFunc("POST /api/v1/runs/run_deep/replay", func(w http.ResponseWriter, r *http.Request) {
		answer(w, map[string]any{"run": &store.Run{ID: "run_again", Input: deep}})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestRunsPrintDeepPayloads: the CLI lists and shows runs whose payloads
// nest 10,000 deep, which encoding/json alone cannot decode inside the
// API's envelope.
func TestRunsPrintDeepPayloads(t *testing.T) {
	url := runsAPI(t)
	deep := string(deepPayload(10000))
	tests := []struct {
		name    string
		args    []string
		want    []string
		wantErr string
	}{
		{"list", []string{"runs", "list"}, []string{"run_deep", "wf", "failed", "task 1 failed", "run_flat", "completed"}, ""},
		{"list --json", []string{"runs", "list", "--json"}, []string{`"id":"run_deep"`, deep, `"a":1`}, ""},
		{"show", []string{"runs", "show", "run_deep"}, []string{`"input":` + deep, `"output":` + deep}, ""},
		{"replay", []string{"replay", "run_deep"}, []string{"replaying run_deep as run_again"}, ""},
		{"workflow run", []string{"workflow", "run", "wf", "--input", writeTemp(t, deepPayload(9990))}, []string{`"input":` + deep}, "run run_deep failed: task 1 failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append(tt.args, "--server", url, "--token", "t"))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := root.ExecuteContext(ctx)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("%v\n%.300s", err, out.String())
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %.80q:\n%.300s", w, out.String())
				}
			}
		})
	}
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	f := t.TempDir() + "/input.json"
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}
