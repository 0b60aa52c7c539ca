package configapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
)

// fakeReloader applies a configuration unless it holds "bad".
type fakeReloader struct {
	v   config.Version
	got []config.Source
}

func (f *fakeReloader) Version() config.Version { return f.v }

func (f *fakeReloader) Apply(_ context.Context, srcs []config.Source, how string) (*config.ApplyResult, error) {
	f.got = srcs
	for _, s := range srcs {
		if strings.Contains(string(s.Data), "bad") {
			return nil, config.Errors{
				{Pos: config.Pos{File: s.Name, Line: 3, Col: 5}, Msg: "first problem"},
				{Pos: config.Pos{File: s.Name, Line: 9, Col: 1}, Msg: "second problem"},
			}
		}
	}
	f.v = config.Version{Counter: f.v.Counter + 1, How: how}
	return &config.ApplyResult{Version: f.v}, nil
}

func TestRoutes(t *testing.T) {
	r := &fakeReloader{v: config.Version{Counter: 3, Digest: "d", How: config.AppliedAtStart}}
	app := fiber.New()
	(&API{Reloader: r}).Routes(app.Group("/api/v1"))
	call := func(method, path, body string) (int, string) {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, method, body string
		status             int
		want               string
	}{
		{"version", "GET", "", 200, `"counter":3`},
		{"not JSON", "POST", "files", 400, `"code":"bad_request"`},
		{"no files", "POST", `{"files":[]}`, 400, "apply takes the whole configuration"},
		{"unnamed file", "POST", `{"files":[{"content":"x"}]}`, 400, "files[0]: no name"},
		{"same file twice", "POST", `{"files":[{"name":"a.yaml"},{"name":"a.yaml"}]}`, 400, "a.yaml is posted twice"},
		{"refused", "POST", `{"files":[{"name":"conf/a.yaml","content":"bad"}]}`, 422,
			`"details":{"errors":["conf/a.yaml:3:5: first problem","conf/a.yaml:9:1: second problem"]}`},
		{"applied", "POST", `{"files":[{"name":"conf/a.yaml","content":"kind: Workflow"}]}`, 200, `"counter":4,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/api/v1/config"
			if tt.method == "POST" {
				path += "/apply"
			}
			status, body := call(tt.method, path, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("%s %s = %d %s, want %d containing %s", tt.method, path, status, body, tt.status, tt.want)
			}
		})
	}
	if len(r.got) != 1 || r.got[0].Name != "conf/a.yaml" || string(r.got[0].Data) != "kind: Workflow" {
		t.Errorf("the reloader got %+v", r.got)
	}
	var v config.Version
	_, body := call("GET", "/api/v1/config", "")
	if json.Unmarshal([]byte(body), &v); v.Counter != 4 || v.How != config.AppliedByAPI {
		t.Errorf("version after apply = %+v", v)
	}
}
