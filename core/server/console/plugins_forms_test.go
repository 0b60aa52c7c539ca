package console

import "testing"

// With both forms of one version installed, the plugins page credits a
// connection to the form it runs: the pinned one, or the preferred one
// (listed first by the registry).
func TestUsesForm(t *testing.T) {
	list := []PluginInfo{
		{Name: "slack", Version: "0.1.0", Kind: "wasm"},
		{Name: "slack", Version: "0.1.0", Kind: "goplugin"},
		{Name: "slack", Version: "0.2.0", Kind: "goplugin"},
	}
	tests := []struct {
		connector string
		row       int
		want      bool
	}{
		{"slack@0.1.0", 0, true},
		{"slack@0.1.0", 1, false},
		{"slack@0.1.0/goplugin", 1, true},
		{"slack@0.1.0/goplugin", 0, false},
		{"slack@0.2.0", 2, true}, // the only form of its version
	}
	for _, tt := range tests {
		if got := usesForm(tt.connector, list, list[tt.row]); got != tt.want {
			t.Errorf("usesForm(%s, %s/%s) = %t, want %t", tt.connector, list[tt.row].Version, list[tt.row].Kind, got, tt.want)
		}
	}
}
