package duration

import (
	"encoding/json"
	"testing"
	"time"
)

func TestBounded(t *testing.T) {
	tests := []struct {
		raw     string
		want    time.Duration
		wantErr string
	}{
		{`"30s"`, 30 * time.Second, ""},
		{`" 2m "`, 2 * time.Minute, ""},
		{`1.5`, 1500 * time.Millisecond, ""},
		{`"5m"`, 5 * time.Minute, ""},
		{`"5m1s"`, 0, "5m1s, want more than 0 and at most 5m0s"},
		{`0`, 0, "0s, want more than 0 and at most 5m0s"},
		{`"-1s"`, 0, "-1s, want more than 0 and at most 5m0s"},
		{`"soon"`, 0, `want a duration such as 30s, got "soon"`},
		{`true`, 0, "want a duration such as 30s, got true"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			d, err := Bounded(json.RawMessage(tt.raw), 5*time.Minute)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Bounded(%s) = %v, %v; want error %q", tt.raw, d, err, tt.wantErr)
				}
				return
			}
			if err != nil || d != tt.want {
				t.Fatalf("Bounded(%s) = %v, %v; want %v", tt.raw, d, err, tt.want)
			}
		})
	}
}
