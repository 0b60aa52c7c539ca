package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestConnectionShowSetup: --setup prints the steps the API fills in,
// asking for the credentials only with --reveal; --reveal alone is a usage
// error.
func TestConnectionShowSetup(t *testing.T) {
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.RequestURI())
		key := "<redacted>"
		if r.URL.Query().Get("reveal") == "true" {
			key = "k-123"
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"setup":{"connection":"in","connector":"webhook","baseUrl":"http://h","baseFrom":"request","revealed":` +
			map[bool]string{true: "true", false: "false"}[key != "<redacted>"] +
			`,"steps":[{"title":"Test push","text":"curl http://h/hooks/in -H 'X-API-Key: ` + key + `'","help":"Any sender."}]}}`))
	}))
	defer srv.Close()
	tests := []struct {
		name  string
		args  []string
		want  []string
		path  string
		usage bool
	}{
		{"redacted", []string{"--setup"}, []string{"Setup of in (webhook)", "set Settings public_url", "# Test push\ncurl http://h/hooks/in -H 'X-API-Key: <redacted>'", "(Any sender.)", "add --reveal"}, "/api/v1/connections/in/setup", false},
		{"revealed", []string{"--setup", "--reveal"}, []string{"X-API-Key: k-123'"}, "/api/v1/connections/in/setup?reveal=true", false},
		{"reveal alone", []string{"--reveal"}, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked = nil
			cmd := newConnectionCmd()
			var out bytes.Buffer
			cmd.SetOut(&out)
			cmd.SetErr(&out)
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			cmd.SetArgs(append([]string{"show", "in", "--server", srv.URL, "--token", "t"}, tt.args...))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := cmd.ExecuteContext(ctx)
			var ue usageError
			if tt.usage {
				if !errors.As(err, &ue) || len(asked) != 0 {
					t.Fatalf("err %v, asked %v: want a usage error before any request", err, asked)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(asked) != 1 || asked[0] != tt.path {
				t.Errorf("asked %v, want %s", asked, tt.path)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tt.name == "revealed" && strings.Contains(out.String(), "add --reveal") {
				t.Error("the reveal hint printed with --reveal")
			}
		})
	}
}
