package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRetentionSettings(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		spec string // the retention block, indented under spec
		want Retention
		err  string // "" or the expected "file:line:col: message" part
	}{
		{name: "absent", spec: "", want: DefaultRetention()},
		{
			name: "days and sizes",
			spec: "  retention: {events: 2d, runs: 45d, dead_letters: 1d12h, max_data_bytes: 20GiB, min_free_bytes: 1GiB}\n",
			want: Retention{Events: 2 * day, Runs: 45 * day, DeadLetters: 36 * time.Hour, MaxDataBytes: 20 << 30, MinFreeBytes: 1 << 30},
		},
		{
			name: "partial keeps defaults",
			spec: "  retention: {events: 2s}\n",
			want: Retention{Events: 2 * time.Second, Runs: 30 * day, DeadLetters: 90 * day, MinFreeBytes: 256 << 20},
		},
		{name: "negative", spec: "  retention: {runs: -1h}\n", err: "settings.yaml:4:21: spec.retention.runs: want a positive duration"},
		{name: "unknown key", spec: "  retention: {event: 2s}\n", err: `settings.yaml:4:15: spec.retention: unknown key "event" (did you mean "events"?)`},
		{name: "reserve too small", spec: "  retention: {min_free_bytes: 1MiB}\n", err: "settings.yaml:4:31: spec.retention.min_free_bytes: want at least 8MiB"},
		{name: "bad size", spec: "  retention: {max_data_bytes: lots}\n", err: "settings.yaml:4:31: spec.retention.max_data_bytes: want a size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "settings.yaml")
			src := "apiVersion: junction/v1\nkind: Settings\nspec:\n" + tt.spec + "  workers: 2\n"
			if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			b, err := Load([]string{path}, Options{LookupEnv: lookup})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("Load error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Settings.Retention != tt.want {
				t.Errorf("Retention = %+v, want %+v", b.Settings.Retention, tt.want)
			}
		})
	}
}
