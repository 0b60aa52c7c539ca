package registry_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/plugin/registry"
)

func TestAudit(t *testing.T) {
	data := t.TempDir()
	if got, err := registry.Audit(data); err != nil || got != nil {
		t.Fatalf("audit without a registry: %v %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(data, "plugins")); !os.IsNotExist(err) {
		t.Fatal("Audit created the registry directory")
	}
	r, err := registry.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1.0.0", "1.1.0"} {
		if _, err := r.Install(context.Background(), dist(t, "notify", v, registry.Capabilities{}, "binary "+v), registry.InstallOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Someone swaps the installed artifact of 1.1.0.
	if err := os.WriteFile(filepath.Join(data, "plugins", "notify", "1.1.0", "goplugin", "notify"), []byte("tampered"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := registry.Audit(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Ref != "notify@1.0.0/goplugin" || got[0].Err != nil ||
		got[1].Ref != "notify@1.1.0/goplugin" || got[1].Err == nil || !strings.Contains(got[1].Err.Error(), "sha256 mismatch") {
		t.Fatalf("audit %+v, want 1.0.0 fine and 1.1.0 a sha256 mismatch", got)
	}
}
