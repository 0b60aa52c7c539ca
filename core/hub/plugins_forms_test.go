package hub

import (
	"path/filepath"
	"testing"
)

// The bundled plugin sources answer validation before anything is built:
// the name from the manifest, the version from the Spec in the Go sources
// (declared only there), the form from the manifest's kind.
func TestStaticCheckerBundledRefs(t *testing.T) {
	c := StaticChecker(t.TempDir(), []string{filepath.Join("..", "..", "plugins")})
	tests := map[string]bool{
		"hello":                true,
		"hello@0.1.0":          true,
		"hello@0.1.0/wasm":     true,
		"hello@0.1.0/goplugin": false, // `junction up` builds hello as Wasm only
		"hello@9.9.9":          false,
		"slack@0.1.0/goplugin": true,
		"marketo@1.0.0":        true, // Version is a constant there
		"nosuchplugin@1.0.0":   false,
	}
	for ref, want := range tests {
		if got := c.ConnectorKnown(ref); got != want {
			t.Errorf("ConnectorKnown(%s) = %t, want %t", ref, got, want)
		}
	}
}
