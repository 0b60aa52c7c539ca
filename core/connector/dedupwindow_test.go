package connector_test

import (
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
)

// TestDedupWindowReadsAsConnectorsDo: the host applies the config's
// dedup_window in every form a connector's Configure accepts, so none
// validates and is then ignored.
func TestDedupWindowReadsAsConnectorsDo(t *testing.T) {
	tests := []struct {
		name string
		spec time.Duration
		cfg  any // config.dedup_window; nil: unset
		want time.Duration
	}{
		{"unset", 0, nil, 0},
		{"go duration", 0, "48h", 48 * time.Hour},
		{"days", 0, "7d", 7 * 24 * time.Hour},
		{"seconds", 0, 3600, time.Hour},
		{"seconds as float", 0, 90.0, 90 * time.Second},
		{"spec wins", time.Minute, "48h", time.Minute},
		{"not a duration", 0, "a day", 0},
		{"zero", 0, "0s", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := &config.Connection{DedupWindow: tt.spec, Config: map[string]any{}}
			if tt.cfg != nil {
				cc.Config["dedup_window"] = tt.cfg
			}
			if got := (&connector.Conn{Config: cc}).DedupWindow(); got != tt.want {
				t.Errorf("DedupWindow() = %v, want %v", got, tt.want)
			}
		})
	}
}
