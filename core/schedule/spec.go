package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/config"
)

// MinEvery is the shortest period a schedule may have: a fetch job shorter
// than that would mostly overlap with itself.
const MinEvery = time.Minute

// Spec is a schedule ready to compute run times: config.Schedule with its
// time zone resolved.
//
// Semantics:
//   - every a whole number of days (24h, 48h, ...): at start (default 00:00)
//     on the wall clock of the time zone, every that many calendar days, so
//     a run stays at 02:00 across daylight saving changes (the day is then
//     23 or 25 hours long). The first run is the first such time after the
//     schedule was applied.
//   - any other every: fixed periods counted from when the schedule was
//     applied, or, with start, from start on the day it was applied. The
//     first run is one period after that anchor (or the first grid point
//     after it).
//   - cron: the expression on the wall clock of the time zone.
type Spec struct {
	Every time.Duration
	// Start is "HH:MM" (every only).
	Start string
	Cron  *Cron
	Loc   *time.Location

	startMin int // minutes after midnight of Start
}

// NewSpec resolves a config schedule; defaultTZ (the organisation's time
// zone, Settings.Timezone) applies when the schedule names none.
func NewSpec(s *config.Schedule, defaultTZ string) (*Spec, error) {
	if s == nil {
		return nil, fmt.Errorf("no schedule")
	}
	tz := s.Timezone
	if tz == "" {
		tz = defaultTZ
	}
	if tz == "" {
		tz = "UTC"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("schedule time zone %q: %w", tz, err)
	}
	sp := &Spec{Every: s.Every, Start: s.Start, Loc: loc}
	switch {
	case s.Cron != "" && s.Every != 0:
		return nil, fmt.Errorf("schedule: want exactly one of every or cron, got both")
	case s.Cron != "":
		if sp.Cron, err = ParseCron(s.Cron); err != nil {
			return nil, err
		}
		return sp, nil
	case s.Every < MinEvery:
		return nil, fmt.Errorf("schedule every %s: want at least %s", s.Every, MinEvery)
	}
	if s.Start != "" {
		h, m, ok := parseHHMM(s.Start)
		if !ok {
			return nil, fmt.Errorf("schedule start %q: want HH:MM", s.Start)
		}
		sp.startMin = h*60 + m
	}
	return sp, nil
}

func parseHHMM(s string) (int, int, bool) {
	hs, ms, ok := strings.Cut(s, ":")
	if !ok || len(hs) != 2 || len(ms) != 2 {
		return 0, 0, false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, 0, false
	}
	return h, m, true
}

// String is a stable description of the schedule; the scheduler stores it
// with the next run so that a changed schedule is re-applied.
func (s *Spec) String() string {
	if s.Cron != nil {
		return "cron " + s.Cron.String() + " " + s.Loc.String()
	}
	return fmt.Sprintf("every %s start %q %s", s.Every, s.Start, s.Loc)
}

// daily reports whether the period is whole calendar days.
func (s *Spec) daily() bool { return s.Cron == nil && s.Every%(24*time.Hour) == 0 }

// Next returns the first run time strictly after `after`, for a schedule
// applied at `applied`. Runs missed before `after` are skipped: the caller
// runs a missed slot once, not once per slot.
func (s *Spec) Next(applied, after time.Time) (time.Time, error) {
	if s.Cron != nil {
		return s.Cron.Next(after, s.Loc)
	}
	h, m := s.startMin/60, s.startMin%60
	if s.daily() {
		days := int(s.Every / (24 * time.Hour))
		a := applied.In(s.Loc)
		y, mo, d := a.Date()
		first := wallTime(y, mo, d, h, m, s.Loc)
		if !first.After(applied) {
			first = wallTime(y, mo, d+1, h, m, s.Loc)
			d++
		}
		if first.After(after) {
			return first, nil
		}
		// Step in calendar days from the first run; estimate the count
		// from elapsed time, then correct for DST days of 23 or 25 hours.
		k := int(after.Sub(first)/s.Every) - 1
		k = max(k, 0)
		for {
			t := wallTime(y, mo, d+k*days, h, m, s.Loc)
			if t.After(after) {
				return t, nil
			}
			k++
		}
	}
	anchor := applied
	if s.Start != "" {
		a := applied.In(s.Loc)
		y, mo, d := a.Date()
		anchor = wallTime(y, mo, d, h, m, s.Loc)
	}
	if after.Before(anchor) {
		// Start later today: the grid's first point is the start itself.
		return anchor, nil
	}
	n := after.Sub(anchor)/s.Every + 1
	return anchor.Add(n * s.Every), nil
}
