package pluginsdk

import (
	"encoding/json"
	"testing"
	"time"
)

func TestDurationForms(t *testing.T) {
	const was = Duration(42 * time.Second) // the default before decoding
	tests := []struct {
		raw     string
		want    Duration
		wantErr string
	}{
		{`"30s"`, Duration(30 * time.Second), ""},
		{`" 2m "`, Duration(2 * time.Minute), ""},
		{`"1h30m"`, Duration(90 * time.Minute), ""},
		{`"250ms"`, Duration(250 * time.Millisecond), ""},
		{`"7d"`, Duration(7 * 24 * time.Hour), ""},
		{`"1d12h"`, Duration(36 * time.Hour), ""},
		{`"0s"`, 0, ""},
		{`30`, Duration(30 * time.Second), ""},
		{`1.5`, Duration(1500 * time.Millisecond), ""},
		{`0`, 0, ""},
		{`1e1`, Duration(10 * time.Second), ""},
		{`null`, was, ""},
		{`""`, was, ""},
		{`"  "`, was, ""},
		{`"soon"`, was, `want a duration such as 10s, got "soon"`},
		{`"1 day"`, was, `want a duration such as 10s, got "1 day"`},
		{`"30"`, was, `want a duration such as 10s, got "30"`},
		{`true`, was, "want a duration such as 10s, got true"},
		{`{"s":1}`, was, `want a duration such as 10s, got {"s":1}`},
		{`"-1s"`, was, "-1s is negative"},
		{`-5`, was, "-5s is negative"},
		{`1e300`, was, "1e300 seconds is too long"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			d := was
			err := json.Unmarshal([]byte(tt.raw), &d)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Unmarshal(%s) = %v, %v; want error %q", tt.raw, d, err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.raw, err)
			}
			if d != tt.want {
				t.Errorf("Unmarshal(%s) = %v, want %v", tt.raw, d, tt.want)
			}
		})
	}
}

func TestDurationRoundTrip(t *testing.T) {
	for _, d := range []Duration{0, Duration(1500 * time.Millisecond), Duration(49 * time.Hour)} {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Duration
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Errorf("%v -> %s -> %v, %v", d, b, back, err)
		}
	}
}

func TestDurationPositive(t *testing.T) {
	tests := []struct {
		d       Duration
		max     time.Duration
		wantErr string
	}{
		{Duration(30 * time.Second), 5 * time.Minute, ""},
		{Duration(5 * time.Minute), 5 * time.Minute, ""},
		{Duration(5*time.Minute + time.Second), 5 * time.Minute, "5m1s, want more than 0 and at most 5m0s"},
		{0, 5 * time.Minute, "0s, want more than 0 and at most 5m0s"},
		{Duration(1000 * time.Hour), 0, ""},
		{0, 0, "0s, want more than 0"},
	}
	for _, tt := range tests {
		err := tt.d.Positive(tt.max)
		if got := errString(err); got != tt.wantErr {
			t.Errorf("%v.Positive(%v) = %q, want %q", tt.d, tt.max, got, tt.wantErr)
		}
	}
}

// TestParseDuration holds the cases core/config tested its own copy with.
func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"0d", 0, true},
		{"-1s", -time.Second, true}, // the sign is for callers to judge
		{"1 day", 0, false},
		{"d", 0, false},
		{"1dx", 0, false},
		{"1d-1h", 0, false},
		{"1.5d", 0, false},
		{"99999999999d", 0, false},
		{"106751d23h59m", 0, false}, // just past the largest time.Duration
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
