package sftp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

func export(c *Connector, input string) (*pluginsdk.PerformResult, error) {
	return c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: "export", Input: json.RawMessage(input), Attempt: 1})
}

func readServerFile(t *testing.T, p string, srvRoot func(string) string) string {
	t.Helper()
	b, err := os.ReadFile(srvRoot(p))
	if err != nil {
		t.Fatalf("read %s back from the server: %v", p, err)
	}
	return string(b)
}

// TestExport writes files on the real server and reads them back.
func TestExport(t *testing.T) {
	srv := startServer(t)
	c := connect(t, baseConfig(srv, nil), basicAuth)
	tests := []struct {
		name, input, path, want, output string
	}{
		{"csv", `{"records":[{"email":"a@x.org","amount":12.5},{"email":"b@x.org","amount":3,"note":"a, \"b\""}],
			"path":"/outbound/events-2024-05-01.csv"}`, "/outbound/events-2024-05-01.csv",
			"email,amount,note\na@x.org,12.5,\nb@x.org,3,\"a, \"\"b\"\"\"\n",
			`{"path":"/outbound/events-2024-05-01.csv","records":2,"bytes":53}`},
		{"csv columns", `{"records":[{"a":1,"b":2}],"columns":["b","a"],"path":"/outbound/cols.csv"}`, "/outbound/cols.csv",
			"b,a\n2,1\n", `{"path":"/outbound/cols.csv","records":1,"bytes":8}`},
		{"ndjson", `{"records":[{"a":1},{"b":[true]}],"format":"ndjson","path":"/outbound/out.txt"}`, "/outbound/out.txt",
			"{\"a\":1}\n{\"b\":[true]}\n", `{"path":"/outbound/out.txt","records":2,"bytes":21}`},
		{"replaces an existing file", `{"records":[{"a":2}],"path":"/outbound/cols.csv"}`, "/outbound/cols.csv",
			"a\n2\n", `{"path":"/outbound/cols.csv","records":1,"bytes":4}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := export(c, tt.input)
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != tt.output {
				t.Errorf("output %s, want %s", res.Output, tt.output)
			}
			if got := readServerFile(t, tt.path, srv.Local); got != tt.want {
				t.Errorf("file %q, want %q", got, tt.want)
			}
		})
	}
	entries, _ := os.ReadDir(srv.Local("/outbound"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestExportErrors(t *testing.T) {
	srv := startServer(t)
	c := connect(t, baseConfig(srv, nil), basicAuth)
	tests := []struct {
		name, input, want string
		retryable         bool
	}{
		{"missing directory", `{"records":[{"a":1}],"path":"/nope/x.csv"}`,
			"sftp host " + srv.Addr + ": export to /nope/x.csv: directory /nope does not exist", false},
		{"relative path", `{"records":[{"a":1}],"path":"outbound/x.csv"}`, `input.path "outbound/x.csv": want an absolute path`, false},
		{"bad input", `{"records":"x","path":"/outbound/x.csv"}`, "input.records: want a list of objects", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := export(c, tt.input)
			if err == nil || !strings.Contains(err.Error(), tt.want) || pluginsdk.IsRetryable(err) != tt.retryable {
				t.Fatalf("error %v, want %q (retryable %v)", err, tt.want, tt.retryable)
			}
		})
	}
	if _, err := c.Perform(context.Background(), &pluginsdk.PerformRequest{Action: "upload"}); err == nil || pluginsdk.IsRetryable(err) {
		t.Errorf("unknown action: %v", err)
	}
}

// TestExportNoHalfFile: the connection drops just before the rename. The
// target must not appear (a reader would see half a file), and the retry
// must succeed.
func TestExportNoHalfFile(t *testing.T) {
	srv := startServer(t)
	c := connect(t, baseConfig(srv, nil), basicAuth)
	var once sync.Once
	srv.SetHook(func(method, _ string) error {
		if method == "PosixRename" {
			fail := false
			once.Do(func() { srv.DropConnections(); fail = true })
			if fail {
				return errors.New("dropped")
			}
		}
		return nil
	})
	recs := make([]string, 5000)
	for i := range recs {
		recs[i] = `{"id":` + strings.Repeat("1", 10) + `,"text":"` + strings.Repeat("x", 100) + `"}`
	}
	input := `{"records":[` + strings.Join(recs, ",") + `],"path":"/outbound/big.ndjson"}`
	_, err := export(c, input)
	if err == nil || !pluginsdk.IsRetryable(err) {
		t.Fatalf("export over a dropped connection: %v, want a retryable error", err)
	}
	if exists(srv, "/outbound/big.ndjson") {
		t.Fatal("the target exists after a failed export")
	}
	res, err := export(c, input)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if got := readServerFile(t, "/outbound/big.ndjson", srv.Local); strings.Count(got, "\n") != 5000 {
		t.Errorf("exported %d lines, want 5000 (%s)", strings.Count(got, "\n"), res.Output)
	}
}
