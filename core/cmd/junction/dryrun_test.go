package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestWorkflowRunDryRunPrints: --dry-run asks for ?dryRun=true (never the
// performing route) and prints each outcome; a task that failed to render
// makes the command fail.
func TestWorkflowRunDryRunPrints(t *testing.T) {
	answers := map[string]string{
		"ok": `{"dryRun":{"dryRun":true,"workflow":"ok","matched":true,"fields":{"id":"A"},"tasks":[
			{"name":"post","uses":"out.post","status":"rendered","input":{"body":{"id":"A"},"headers":{"X-Key":"<redacted>"}}},
			{"name":"next","uses":"out.post","status":"not_rendered","dependsOn":["post"],"note":"depends on post output, not rendered"}]}}`,
		"refused": `{"dryRun":{"dryRun":true,"workflow":"refused","matched":false,"fields":{},"error":"the filter did not match this payload: no task would run","tasks":[]}}`,
		"broken": `{"dryRun":{"dryRun":true,"workflow":"broken","matched":true,"fields":{},"tasks":[
			{"name":"post","uses":"out.post","status":"failed","error":"render input: boom"}]}}`,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/workflows/{name}/run", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("dryRun") != "true" {
			t.Errorf("%s without dryRun=true: a dry run must not call the performing route", r.URL)
			http.Error(w, `{"error":{"code":"x","message":"performed"}}`, http.StatusTeapot)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(answers[r.PathValue("name")]))
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	input := writeTemp(t, []byte(`{"id":"A"}`))

	tests := []struct {
		workflow string
		want     []string
		wantErr  string
	}{
		{"ok", []string{
			"dry run of ok: nothing was performed and no run was stored", `"id": "A"`,
			"task post (out.post): rendered", `"X-Key": "<redacted>"`,
			"task next (out.post): not rendered\n  depends on post output, not rendered\n",
		}, ""},
		{"refused", []string{"filter: the filter did not match this payload"}, ""},
		{"broken", []string{"task post (out.post): failed\n  error: render input: boom\n"}, "1 task(s) could not be rendered"},
	}
	for _, tt := range tests {
		t.Run(tt.workflow, func(t *testing.T) {
			root := newRootCmd()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs([]string{"workflow", "run", tt.workflow, "--input", input, "--dry-run", "--server", "http://" + ln.Addr().String(), "--token", "t"})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := root.ExecuteContext(ctx)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
