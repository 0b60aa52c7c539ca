package doctor

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Rome loads on a host without zoneinfo

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

func init() {
	connector.Register(connector.Builtin{Name: "fakeprobe", New: func() pluginsdk.Connector { return &fakeProbe{} }})
}

// fakeProbe reports what its config says, and whether Reach let it
// through the connection's network rules.
type fakeProbe struct{ verdict string }

func (f *fakeProbe) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{Name: "fakeprobe", Version: "1.0.0", Roles: []string{pluginsdk.RolePerform}}
}

func (f *fakeProbe) Configure(_ context.Context, pc *pluginsdk.Context) error {
	var cfg struct{ Verdict string }
	_ = json.Unmarshal(pc.Config, &cfg)
	f.verdict = cfg.Verdict
	return nil
}

func (f *fakeProbe) Probe(ctx context.Context, env *connector.ProbeEnv) []connector.ProbeResult {
	_, err := env.Reach(ctx, "http://127.0.0.1:1/")
	return []connector.ProbeResult{
		{Check: "remote", Status: connector.ProbeStatus(f.verdict), Detail: "as configured"},
		connector.ReachResult("loopback", "", err),
	}
}

type fakeDisk int64

func (f fakeDisk) Free(string) (int64, error) { return int64(f), nil }

const hubYAML = `apiVersion: junction/v1
kind: Settings
spec:
  timezone: Europe/Rome
  retention: {min_free_bytes: 100MiB}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: remote}
spec:
  connector: fakeprobe
  network: {allow_private: true}
  config: {verdict: ok}
`

func TestRun(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		yaml    string
		free    int64
		build   time.Time
		prepare func(t *testing.T, data string)
		want    []string // "status name: detail prefix"
		failed  bool
	}{
		{name: "healthy", yaml: hubYAML, free: 1 << 40,
			want: []string{"ok config:", "ok disk: 1.0 TiB free", "ok time zones: Europe/Rome: each loads", "ok connection remote: remote: as configured", "warn connection remote: loopback: not reachable from here"}},
		{name: "loopback without allow_private", yaml: strings.Replace(hubYAML, "allow_private: true", "allow_private: false", 1), free: 1 << 40, failed: true,
			want: []string{"FAIL connection remote: loopback: refused by the connection's network rules, nothing sent"}},
		{name: "disk below the reserve", yaml: hubYAML, free: 50 << 20, failed: true,
			want: []string{"FAIL disk: 50.0 MiB free", "FAIL disk: 50.0 MiB free on the file system of"}},
		{name: "disk near the reserve", yaml: hubYAML, free: 150 << 20,
			want: []string{"warn disk: 150.0 MiB free"}},
		{name: "clock before the build", yaml: hubYAML, free: 1 << 40, build: now.Add(48 * time.Hour), failed: true,
			want: []string{"FAIL clock: 2026-03-01T12:00:00Z is before this binary's source commit (2026-03-03T12:00:00Z)"}},
		{name: "file from the future", yaml: hubYAML, free: 1 << 40,
			prepare: func(t *testing.T, data string) {
				p := filepath.Join(data, "MANIFEST")
				os.WriteFile(p, nil, 0o600)
				os.Chtimes(p, now.Add(time.Hour), now.Add(time.Hour))
			},
			want: []string{"warn clock: "}},
		{name: "data dir open to others", yaml: hubYAML, free: 1 << 40,
			prepare: func(t *testing.T, data string) { os.Chmod(data, 0o755) },
			want:    []string{"warn data dir: "}},
		{name: "probe fails", yaml: strings.Replace(hubYAML, "verdict: ok", "verdict: fail", 1), free: 1 << 40, failed: true,
			want: []string{"FAIL connection remote: remote: as configured"}},
		{name: "config error", yaml: strings.Replace(hubYAML, "connector: fakeprobe", "connector: Fake Probe", 1), free: 1 << 40, failed: true,
			want: []string{"FAIL config: ", "skip connections: not checked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "hub.yaml")
			if err := os.WriteFile(cfg, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(data, 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(t, data)
			}
			build := tt.build
			if build.IsZero() {
				build = now.Add(-24 * time.Hour)
			}
			rep := Run(context.Background(), Options{
				ConfigPaths: []string{cfg}, DataDir: data, Disk: fakeDisk(tt.free),
				Now: func() time.Time { return now }, BuildTime: build,
			})
			var lines []string
			for _, c := range rep.Checks {
				lines = append(lines, string(c.Status)+" "+c.Name+": "+c.Detail)
			}
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					found = found || strings.HasPrefix(l, w)
				}
				if !found {
					t.Errorf("no check starting %q in:\n%s", w, strings.Join(lines, "\n"))
				}
			}
			if rep.Failed() != tt.failed || rep.Passed == tt.failed {
				t.Errorf("failed %v, want %v:\n%s", rep.Failed(), tt.failed, strings.Join(lines, "\n"))
			}
		})
	}
}
