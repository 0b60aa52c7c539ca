package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/fetch/fetchapi"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/stats/statsapi"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// pager is a pull connector serving n records in pages; it fails while its
// secret is not the one the "remote" accepts.
type pager struct {
	mu     sync.Mutex
	n      int
	secret string
	accept string
}

func (p *pager) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "pager", Version: "1.0.0", ABI: pluginsdk.ABIVersion, Direction: pluginsdk.Inbound,
		Roles: []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata}}
}

func (p *pager) Configure(_ context.Context, c *pluginsdk.Context) error {
	p.mu.Lock()
	p.secret = c.Auth.Secret
	p.mu.Unlock()
	return nil
}

func (p *pager) Metadata(context.Context) (*pluginsdk.MetadataResult, error) {
	return &pluginsdk.MetadataResult{Entities: []pluginsdk.Entity{{Name: "contacts", Fields: []pluginsdk.Field{{Name: "email", Type: "string", Required: true}}}}}, nil
}

func (p *pager) Fetch(_ context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.accept != "" && p.secret != p.accept {
		return nil, pluginsdk.Errorf("401: credentials rejected")
	}
	off, _ := strconv.Atoi(string(req.Cursor))
	end := min(off+req.Limit, p.n)
	res := &pluginsdk.FetchResult{Cursor: []byte(strconv.Itoa(end)), More: end < p.n}
	for i := off; i < end; i++ {
		res.Events = append(res.Events, pluginsdk.Event{Payload: json.RawMessage(fmt.Sprintf(
			`{"file":"c.csv","line":%d,"entity":"contacts","record":{"email":"u%d@example.com","plan":"%s"}}`, i+2, i, []string{"free", "pro"}[i%2]))})
	}
	return res, nil
}

// opsHub serves the connection-operation and stats routes over a real store
// on loopback, as the hub mounts them.
func opsHub(t *testing.T, p *pager) string {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Logger: quiet, SecretKey: bytes.Repeat([]byte{9}, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := stats.Open(context.Background(), stats.Options{KV: st.KV(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cc := &config.Connection{Name: "files", Connector: "pager", Auth: config.Auth{Type: "api_key", Secret: "old"}}
	_ = p.Configure(context.Background(), &pluginsdk.Context{Auth: pluginsdk.Auth{Type: "api_key", Secret: "old"}})
	conn := &connector.Conn{Config: cc, Connector: p, Spec: p.Spec()}
	lookup := func(n string) (*connector.Conn, bool) { return conn, n == "files" }
	runner, err := fetch.New(context.Background(), fetch.Options{Store: st, Lookup: lookup, Observer: rec, Logger: quiet, BatchLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	api := app.Group("/api/v1")
	fa := &fetchapi.API{Runner: runner, Store: st, Logger: quiet, Reconfigure: func(ctx context.Context, _ string, a pluginsdk.Auth) error {
		return p.Configure(ctx, &pluginsdk.Context{Auth: a})
	}}
	fa.Routes(api)
	sa := &statsapi.API{Recorder: rec, Log: st.Log(), Known: func(n string) bool { return n == "files" }}
	sa.Routes(api)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() {
		app.Shutdown()
		runner.Close()
		rec.Close()
		st.Close()
	})
	return "http://" + ln.Addr().String()
}

// run executes `junction connection ARGS...` against url.
func run(t *testing.T, url, stdin string, args ...string) (string, error) {
	t.Helper()
	var server, token string
	parent := &cobra.Command{Use: "connection", SilenceUsage: true, SilenceErrors: true}
	addClientFlags(parent, &server, &token)
	parent.AddCommand(newConnectionOpsCmds()...)
	var out bytes.Buffer
	parent.SetOut(&out)
	parent.SetErr(&out)
	parent.SetIn(strings.NewReader(stdin))
	parent.SetArgs(append(args, "--server", url, "--token", "t"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := parent.ExecuteContext(ctx)
	return out.String(), err
}

func TestConnectionOpsCLI(t *testing.T) {
	p := &pager{n: 250, accept: "new"}
	url := opsHub(t, p)

	out, err := run(t, url, "", "fetch", "files")
	if err == nil || !strings.Contains(err.Error(), "credentials rejected") || !strings.Contains(out, " failed: 0 records") {
		t.Fatalf("fetch with rejected credentials: %v\n%s", err, out)
	}
	if _, err := run(t, url, "", "reconnect", "files", "--type", "api_key"); err == nil || !strings.Contains(err.Error(), "no API key secret") {
		t.Fatalf("reconnect without a secret: %v", err)
	}
	out, err = run(t, url, "new\n", "reconnect", "files", "--type", "api_key")
	if err != nil || !strings.Contains(out, "replaced and applied; cursors kept") {
		t.Fatalf("reconnect: %v\n%s", err, out)
	}
	out, err = run(t, url, "", "fetch", "files")
	if err != nil || !strings.Contains(out, "completed: 250 records") {
		t.Fatalf("fetch: %v\n%s", err, out)
	}
	out, err = run(t, url, "", "fetch", "files", "--metadata-only")
	if err != nil || !strings.Contains(out, "metadata fetched") {
		t.Fatalf("fetch --metadata-only: %v\n%s", err, out)
	}
	out, err = run(t, url, "", "jobs", "files")
	if err != nil || strings.Count(out, "\n") != 4 || !strings.Contains(out, "completed") || !strings.Contains(out, "credentials rejected") {
		t.Fatalf("jobs: %v\n%s", err, out)
	}

	out, err = run(t, url, "", "stats", "files")
	if err != nil || !strings.Contains(out, "250 in 1 entities") || !strings.Contains(out, "Data quality:  100.0%") {
		t.Fatalf("stats: %v\n%s", err, out)
	}
	out, err = run(t, url, "", "stats", "files", "--entity", "contacts")
	if err != nil || !strings.Contains(out, "plan") || !strings.Contains(out, "Metadata:") {
		t.Fatalf("stats --entity: %v\n%s", err, out)
	}
	out, err = run(t, url, "", "stats", "files", "--entity", "contacts", "--field", "plan")
	if err != nil || !strings.Contains(out, "Top values (exact)") || !strings.Contains(out, "free   125") {
		t.Fatalf("stats --field: %v\n%s", err, out)
	}
	if _, err := run(t, url, "", "stats", "files", "--field", "plan"); err == nil {
		t.Error("--field without --entity accepted")
	}

	out, err = run(t, url, "", "key", "show", "files")
	if err != nil || strings.TrimSpace(out) != "old" {
		t.Fatalf("key show before rotation: %v %q", err, out)
	}
	rotated, err := run(t, url, "", "key", "rotate", "files")
	if err != nil || !strings.HasPrefix(rotated, "jwk_") {
		t.Fatalf("key rotate: %v %q", err, rotated)
	}
	if out, _ := run(t, url, "", "key", "show", "files"); out != rotated {
		t.Errorf("key show %q, want the rotated %q", out, rotated)
	}
	if _, err := run(t, url, "", "fetch", "nope"); err == nil || !strings.Contains(err.Error(), "not configured") {
		t.Errorf("fetch of an unknown connection: %v", err)
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 2048: "2.0 KiB", 5 << 20: "5.0 MiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
