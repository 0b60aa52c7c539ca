package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
)

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestCronNext(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	utc := time.UTC
	tests := []struct {
		name, expr string
		loc        *time.Location
		after      time.Time
		want       []time.Time // successive runs
	}{
		{"every 15 minutes", "*/15 * * * *", utc, time.Date(2026, 1, 1, 10, 7, 30, 0, utc),
			[]time.Time{time.Date(2026, 1, 1, 10, 15, 0, 0, utc), time.Date(2026, 1, 1, 10, 30, 0, 0, utc)}},
		{"exact minute boundary is not repeated", "0 * * * *", utc, time.Date(2026, 1, 1, 10, 0, 0, 0, utc),
			[]time.Time{time.Date(2026, 1, 1, 11, 0, 0, 0, utc)}},
		{"hourly descriptor", "@hourly", utc, time.Date(2026, 1, 1, 23, 59, 0, 0, utc),
			[]time.Time{time.Date(2026, 1, 2, 0, 0, 0, 0, utc)}},
		{"weekday range", "30 9 * * MON-FRI", utc, time.Date(2026, 1, 2, 10, 0, 0, 0, utc), // Friday
			[]time.Time{time.Date(2026, 1, 5, 9, 30, 0, 0, utc), time.Date(2026, 1, 6, 9, 30, 0, 0, utc)}},
		{"sunday as 7", "0 0 * * 7", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc),
			[]time.Time{time.Date(2026, 1, 4, 0, 0, 0, 0, utc)}},
		{"day of month or day of week when both restricted", "0 0 13 * FRI", utc, time.Date(2026, 2, 1, 0, 0, 0, 0, utc),
			[]time.Time{time.Date(2026, 2, 6, 0, 0, 0, 0, utc), time.Date(2026, 2, 13, 0, 0, 0, 0, utc), time.Date(2026, 2, 20, 0, 0, 0, 0, utc)}},
		{"leap day", "0 0 29 2 *", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc),
			[]time.Time{time.Date(2028, 2, 29, 0, 0, 0, 0, utc)}},
		{"step from a value", "5/20 * * * *", utc, time.Date(2026, 1, 1, 0, 0, 0, 0, utc),
			[]time.Time{time.Date(2026, 1, 1, 0, 5, 0, 0, utc), time.Date(2026, 1, 1, 0, 25, 0, 0, utc), time.Date(2026, 1, 1, 0, 45, 0, 0, utc)}},
		{"spring forward: 02:30 runs when the clock jumps", "30 2 * * *", ny, time.Date(2026, 3, 7, 12, 0, 0, 0, ny),
			[]time.Time{time.Date(2026, 3, 8, 7, 0, 0, 0, utc), time.Date(2026, 3, 9, 6, 30, 0, 0, utc)}},
		{"fall back: 01:30 runs once", "30 1 * * *", ny, time.Date(2026, 10, 31, 12, 0, 0, 0, ny),
			[]time.Time{time.Date(2026, 11, 1, 5, 30, 0, 0, utc), time.Date(2026, 11, 2, 6, 30, 0, 0, utc)}},
		{"fall back: hourly skips the repeated hour", "0 * * * *", ny, time.Date(2026, 11, 1, 0, 30, 0, 0, ny),
			[]time.Time{time.Date(2026, 11, 1, 5, 0, 0, 0, utc), time.Date(2026, 11, 1, 7, 0, 0, 0, utc)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCron(tt.expr)
			if err != nil {
				t.Fatal(err)
			}
			after := tt.after
			for i, want := range tt.want {
				got, err := c.Next(after, tt.loc)
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(want) {
					t.Fatalf("run %d after %s: got %s, want %s", i, after, got.In(tt.loc), want.In(tt.loc))
				}
				after = got
			}
		})
	}
}

func TestCronErrors(t *testing.T) {
	for _, expr := range []string{"* * * *", "60 * * * *", "* * * * MON-SUN-1", "@fortnightly", "*/0 * * * *", "5-1 * * * *"} {
		if _, err := ParseCron(expr); err == nil {
			t.Errorf("ParseCron(%q): want an error", expr)
		}
	}
	c, err := ParseCron("0 0 30 2 *")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC); err == nil || !strings.Contains(err.Error(), "matches no time") {
		t.Errorf("30 February: got %v, want 'matches no time'", err)
	}
}

func TestSpecNext(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	applied := time.Date(2026, 3, 7, 10, 17, 0, 0, ny)
	tests := []struct {
		name  string
		sched config.Schedule
		after time.Time
		want  time.Time
	}{
		{"6h counts from when applied", config.Schedule{Every: 6 * time.Hour}, applied, applied.Add(6 * time.Hour)},
		{"6h skips missed slots", config.Schedule{Every: 6 * time.Hour}, applied.Add(25 * time.Hour), applied.Add(30 * time.Hour)},
		{"1h aligned to start", config.Schedule{Every: time.Hour, Start: "00:30"}, applied, time.Date(2026, 3, 7, 10, 30, 0, 0, ny)},
		{"12h with a start later today", config.Schedule{Every: 12 * time.Hour, Start: "22:00"}, applied, time.Date(2026, 3, 7, 22, 0, 0, 0, ny)},
		{"24h before start runs today", config.Schedule{Every: 24 * time.Hour, Start: "11:00"}, applied, time.Date(2026, 3, 7, 11, 0, 0, 0, ny)},
		{"24h after start runs tomorrow", config.Schedule{Every: 24 * time.Hour, Start: "02:00"}, applied, time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)},
		{"24h without start is midnight", config.Schedule{Every: 24 * time.Hour}, applied, time.Date(2026, 3, 8, 0, 0, 0, 0, ny)},
		{"24h far after applied", config.Schedule{Every: 24 * time.Hour, Start: "02:00"}, time.Date(2026, 11, 1, 1, 30, 0, 0, ny), time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC)},
		{"48h every other day", config.Schedule{Every: 48 * time.Hour, Start: "02:00"}, time.Date(2026, 3, 8, 8, 0, 0, 0, ny), time.Date(2026, 3, 10, 2, 0, 0, 0, ny)},
		{"cron", config.Schedule{Cron: "0 6 * * *"}, applied, time.Date(2026, 3, 8, 6, 0, 0, 0, ny)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sched.Timezone = "America/New_York"
			sp, err := NewSpec(&tt.sched, "UTC")
			if err != nil {
				t.Fatal(err)
			}
			got, err := sp.Next(applied, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("Next(after %s) = %s, want %s", tt.after.In(ny), got.In(ny), tt.want.In(ny))
			}
		})
	}
}

func TestSpecTimezoneDefault(t *testing.T) {
	sp, err := NewSpec(&config.Schedule{Every: 24 * time.Hour, Start: "02:00"}, "Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	if sp.Loc.String() != "Europe/Rome" {
		t.Errorf("location %s, want the organisation's Europe/Rome", sp.Loc)
	}
	if _, err := NewSpec(&config.Schedule{Every: time.Second}, ""); err == nil {
		t.Error("every 1s: want an error")
	}
}
