package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/junctionhub/junction/builtin/s3"
	"github.com/junctionhub/junction/builtin/s3/s3test"
	_ "github.com/junctionhub/junction/builtin/sftp"
	"github.com/junctionhub/junction/builtin/sftp/sftptest"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/store"
)

// fileSource is a file server a builtin imports from.
type fileSource struct {
	conn     *config.Connection
	write    func(name, body string) // an upload old enough to import
	archived func(name string) bool
}

func sftpSource(t *testing.T) fileSource {
	srv := sftptest.Start(t)
	srv.AddUser("junction", "pw")
	inbound := filepath.Join(srv.Root, "inbound")
	return fileSource{
		conn: &config.Connection{Name: "partner", Connector: "sftp",
			Auth: config.Auth{Type: "basic", Username: "junction", Password: "pw"},
			Config: map[string]any{
				"host": srv.Host(), "port": srv.Port(), "host_key_fingerprint": srv.Fingerprint(),
				"entities": []any{map[string]any{"name": "contacts", "path": "/inbound", "glob": "*.csv", "archive_dir": "/archive"}},
			}},
		write: func(name, body string) {
			t.Helper()
			if err := os.MkdirAll(inbound, 0o755); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(inbound, name)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Hour) // past min_age
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		},
		archived: func(name string) bool {
			_, err := os.Stat(filepath.Join(srv.Root, "archive", name))
			return err == nil
		},
	}
}

func s3Source(t *testing.T) fileSource {
	srv := s3test.Start(t, "inbox")
	return fileSource{
		conn: &config.Connection{Name: "partner", Connector: "s3",
			Auth: config.Auth{Type: "basic", Username: "AKIDTEST", Password: "secret-test-key"},
			Config: map[string]any{
				"bucket": "inbox", "endpoint": srv.URL, "region": "eu-west-1", "path_style": true, "allow_private": true,
				"entities": []any{map[string]any{"name": "contacts", "prefix": "inbound/", "glob": "*.csv", "archive_prefix": "archive/"}},
			}},
		write: func(name, body string) { srv.Put(t, "inbox", "inbound/"+name, body) },
		archived: func(name string) bool {
			_, ok := srv.Get(t, "inbox", "archive/"+name)
			return ok
		},
	}
}

// TestFetchRunnerWithFileBuiltins drives the real sftp and s3 builtins with
// the fetch runner and the data overview: records land in the log once, an
// imported file is archived once its records are committed, a second job
// imports only the new file, and the overview counts match the CSV.
func TestFetchRunnerWithFileBuiltins(t *testing.T) {
	for name, newSource := range map[string]func(*testing.T) fileSource{"sftp": sftpSource, "s3": s3Source} {
		t.Run(name, func(t *testing.T) {
			testFetchRunnerWith(t, newSource(t))
		})
	}
}

func testFetchRunnerWith(t *testing.T, src fileSource) {
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	src.write("a.csv", "email,country,age\nann@example.com,IT,34\nbob@example.com,,\ncid@example.com,IT,51\n")

	st, err := store.Open(ctx, t.TempDir(), store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{4}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := connector.NewManager(ctx, connector.ManagerOptions{Connections: []*config.Connection{src.conn}, Store: st, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rec, err := stats.Open(ctx, stats.Options{KV: st.KV(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	r, err := fetch.New(ctx, fetch.Options{Store: st, Lookup: m.Get, Observer: rec, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	conn, _ := m.Get("partner")

	job, err := r.Run(ctx, conn, fetch.RunOptions{})
	if err != nil || job.Records != 3 {
		t.Fatalf("first job %+v: %v", job, err)
	}
	src.write("b.csv", "email,country,age\ndan@example.com,DE,29\n")
	job, err = r.Run(ctx, conn, fetch.RunOptions{})
	if err != nil || job.Records != 1 {
		t.Fatalf("second job %+v: %v", job, err)
	}
	if !src.archived("a.csv") {
		t.Error("a.csv not archived after its records were committed")
	}
	evs, err := st.Log().Read(ctx, 0, 100)
	if err != nil || len(evs) != 4 {
		t.Fatalf("log holds %d events (%v), want 4", len(evs), err)
	}
	var first struct {
		Entity string
		Record map[string]string
	}
	if err := json.Unmarshal(evs[0].Payload, &first); err != nil || first.Entity != "contacts" || first.Record["email"] != "ann@example.com" {
		t.Errorf("first event %s", evs[0].Payload)
	}

	es, ok := rec.Entity("partner", "contacts")
	// 4 rows x 3 fields; bob's country and age are empty cells.
	if !ok || es.Rows != 4 || es.Cells != 12 || es.NullValues != 2 {
		t.Fatalf("overview %+v", es.EntitySummary)
	}
	fs, _ := rec.Field("partner", "contacts", "country")
	if fs.Values != 3 || !fs.TopExact || fs.Top[0] != (stats.TopValue{Value: "IT", Count: 2}) {
		t.Errorf("country %+v", fs)
	}
}
