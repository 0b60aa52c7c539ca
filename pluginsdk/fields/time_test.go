package fields

import (
	"strconv"
	"testing"
	"time"
)

// parseTime is the reference: what a connector did before fields.Time.
func parseTime(raw []byte) (time.Time, bool) {
	s, ok := String(raw)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// sameTime compares instants and zones: time.Parse makes a new fixed zone
// per call, so == differs for equal offsets.
func sameTime(a, b time.Time) bool {
	an, ao := a.Zone()
	bn, bo := b.Zone()
	return a.Equal(b) && an == bn && ao == bo && a.Location().String() == b.Location().String() && (a.Location() == time.UTC) == (b.Location() == time.UTC)
}

var timeSeeds = []string{
	`"2026-03-02T10:15:01.400Z"`, `"2026-03-02T10:15:01Z"`, `"2026-03-02T10:15:01.123456789Z"`,
	`"2026-03-02T10:15:01.1234567891Z"`, `"2026-03-02T10:15:01.Z"`, `"2026-03-02T10:15:01,5Z"`,
	`"2024-02-29T00:00:00Z"`, `"2026-02-29T00:00:00Z"`, `"1900-02-29T00:00:00Z"`, `"2000-02-29T00:00:00Z"`,
	`"2026-04-31T00:00:00Z"`, `"2026-12-31T23:59:59Z"`, `"2026-13-01T00:00:00Z"`, `"2026-00-01T00:00:00Z"`,
	`"2026-03-02T24:00:00Z"`, `"2026-03-02T10:60:00Z"`, `"2026-03-02T10:15:60Z"`, `"2026-03-02t10:15:01z"`,
	`"2026-03-02T10:15:01+02:00"`, `"2026-03-02T10:15:01.5-07:30"`, `"2026-03-02 10:15:01Z"`, `"0000-01-01T00:00:00Z"`,
	`"2026-03-02T10:15:01.4\u0030Z"`, `2026`, `null`, `""`, `"Z"`, `"+002026-03-02T10:15:01Z"`, `"2026-3-2T10:15:01Z"`,
}

func TestTimeMatchesTimeParse(t *testing.T) {
	for _, in := range timeSeeds {
		got, gotOK := Time([]byte(in))
		want, wantOK := parseTime([]byte(in))
		if !sameTime(got, want) || gotOK != wantOK {
			t.Errorf("Time(%s) = %v %v, want %v %v", in, got, gotOK, want, wantOK)
		}
	}
	if got, _ := Time([]byte(`"2026-03-02T10:15:01.400Z"`)); got != time.Date(2026, 3, 2, 10, 15, 1, 400e6, time.UTC) {
		t.Errorf("got %v", got)
	}
}

// FuzzTime checks fields.Time against time.Parse on any input.
func FuzzTime(f *testing.F) {
	for _, s := range timeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, gotOK := Time(raw)
		want, wantOK := parseTime(raw)
		if !sameTime(got, want) || gotOK != wantOK {
			t.Fatalf("Time(%s) = %v %v, want %v %v", strconv.Quote(string(raw)), got, gotOK, want, wantOK)
		}
	})
}

func BenchmarkTime(b *testing.B) {
	raw := []byte(`"2026-03-02T10:15:01.400Z"`)
	for b.Loop() {
		if _, ok := Time(raw); !ok {
			b.Fatal("not a time")
		}
	}
}
