package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		value   string
		want    int64
		wantErr string
	}{
		{"192MiB", 192 << 20, ""},
		{"1GB", 1000 * 1000 * 1000, ""},
		{"none", NoMemoryLimit, ""},
		{"None", NoMemoryLimit, ""},
		{"8MiB", 0, "too small for a soft memory limit"},
		{"lots", 0, "want a size such as"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "s.yaml"), "apiVersion: junction/v1\nkind: Settings\nspec: {memory_limit: "+tt.value+"}\n")
			b, err := Load([]string{dir}, Options{LookupEnv: lookup})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(FormatErrors(err), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(FormatErrors(err))
			}
			if b.Settings.MemoryLimit != tt.want {
				t.Errorf("MemoryLimit = %d, want %d", b.Settings.MemoryLimit, tt.want)
			}
		})
	}
}
