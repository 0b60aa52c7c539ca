package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Cron is a parsed five-field cron expression (minute hour day-of-month month
// day-of-week) or @ descriptor. config.checkCron only validates the syntax at
// load time; Cron computes the times.
type Cron struct {
	expr                         string
	minute, hour, dom, month     uint64 // bit i set: value i matches
	dow                          uint64 // 0..6, Sunday is 0 (7 folded onto 0)
	domRestricted, dowRestricted bool
}

var cronDescriptors = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

type cronRange struct {
	name     string
	min, max int
	names    []string
}

var cronRanges = [5]cronRange{
	{name: "minute", min: 0, max: 59},
	{name: "hour", min: 0, max: 23},
	{name: "day of month", min: 1, max: 31},
	{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{name: "day of week", min: 0, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// ParseCron parses a cron expression.
func ParseCron(expr string) (*Cron, error) {
	fields := expr
	if strings.HasPrefix(expr, "@") {
		f, ok := cronDescriptors[expr]
		if !ok {
			return nil, fmt.Errorf("cron %q: unknown descriptor", expr)
		}
		fields = f
	}
	parts := strings.Fields(fields)
	if len(parts) != 5 {
		return nil, fmt.Errorf("cron %q: want 5 fields (minute hour day-of-month month day-of-week), got %d", expr, len(parts))
	}
	c := &Cron{expr: expr}
	sets := [5]*uint64{&c.minute, &c.hour, &c.dom, &c.month, &c.dow}
	for i, p := range parts {
		bits, err := cronRanges[i].parse(p)
		if err != nil {
			return nil, fmt.Errorf("cron %q: %s: %w", expr, cronRanges[i].name, err)
		}
		*sets[i] = bits
	}
	if c.dow&(1<<7) != 0 {
		c.dow = c.dow&^(1<<7) | 1
	}
	// Vixie cron: when both day fields are restricted, a day matches if
	// either does; a field starting with * counts as unrestricted.
	c.domRestricted = !strings.HasPrefix(parts[2], "*")
	c.dowRestricted = !strings.HasPrefix(parts[4], "*")
	return c, nil
}

// String returns the expression as written.
func (c *Cron) String() string { return c.expr }

func (r cronRange) parse(s string) (uint64, error) {
	var bits uint64
	for _, item := range strings.Split(s, ",") {
		rng, stepStr, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepStr)
			if err != nil || n < 1 || n > r.max {
				return 0, fmt.Errorf("bad step %q", stepStr)
			}
			step = n
		}
		lo, hi := r.min, r.max
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = r.value(a); err != nil {
				return 0, err
			}
			hi = lo
			if isRange {
				if hi, err = r.value(b); err != nil {
					return 0, err
				}
				if lo > hi {
					return 0, fmt.Errorf("range %q runs backwards", rng)
				}
			} else if hasStep {
				// "5/15" means from 5 to the end in steps of 15.
				hi = r.max
			}
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, nil
}

func (r cronRange) value(s string) (int, error) {
	for i, n := range r.names {
		if strings.EqualFold(s, n) {
			return r.min + i, nil
		}
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < r.min || v > r.max {
		return 0, fmt.Errorf("%q is not a value from %d to %d", s, r.min, r.max)
	}
	return v, nil
}

// cronHorizon bounds the search: an expression that matches nothing within
// it (30 February) never matches.
const cronHorizon = 5 * 366

// Next returns the first time strictly after `after` that the expression
// matches, evaluated on the wall clock of loc.
//
// Daylight saving: a wall time that does not exist (skipped by a spring
// forward) fires at the instant the clock jumps, as time.Date resolves it; a
// wall time that occurs twice (fall back) fires once, at its first
// occurrence. Both match what Vixie cron does.
func (c *Cron) Next(after time.Time, loc *time.Location) (time.Time, error) {
	local := after.In(loc)
	y, m, d := local.Date()
	for i := 0; i <= cronHorizon; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc)
		if !c.dayMatches(day) {
			continue
		}
		// Within one day wall times are not monotonic in instants around a
		// DST change (02:30 in a gap resolves after 03:00), so take the
		// earliest candidate of the day rather than the first in wall order.
		var best time.Time
		dy, dm, dd := day.Date()
		for h := 0; h < 24; h++ {
			if c.hour&(1<<uint(h)) == 0 {
				continue
			}
			for mi := 0; mi < 60; mi++ {
				if c.minute&(1<<uint(mi)) == 0 {
					continue
				}
				t := wallTime(dy, dm, dd, h, mi, loc)
				if t.After(after) && (best.IsZero() || t.Before(best)) {
					best = t
				}
			}
		}
		if !best.IsZero() {
			return best, nil
		}
	}
	return time.Time{}, fmt.Errorf("cron %q matches no time within %d days after %s", c.expr, cronHorizon, after.Format(time.RFC3339))
}

func (c *Cron) dayMatches(day time.Time) bool {
	if c.month&(1<<uint(day.Month())) == 0 {
		return false
	}
	domOK := c.dom&(1<<uint(day.Day())) != 0
	dowOK := c.dow&(1<<uint(day.Weekday())) != 0
	if c.domRestricted && c.dowRestricted {
		return domOK || dowOK
	}
	return domOK && dowOK
}

// wallTime is time.Date with defined choices where the wall clock is not a
// one-to-one map: a wall time that occurs twice resolves to its first
// occurrence, and one that does not exist (skipped by a spring forward)
// resolves to the instant the clock jumps, the first that exists after it.
// (time.Date would resolve 02:00 in New York's gap to 01:00 EST, before it.)
func wallTime(y int, m time.Month, d, h, mi int, loc *time.Location) time.Time {
	// Callers step days by adding to d; normalise the date first so that
	// only a DST change can make the result's wall clock differ.
	y, m, d = time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Date()
	t := time.Date(y, m, d, h, mi, 0, 0, loc)
	if ty, tm, td := t.Date(); ty != y || tm != m || td != d || t.Hour() != h || t.Minute() != mi {
		want := time.Date(y, m, d, h, mi, 0, 0, time.UTC)
		got := time.Date(ty, tm, td, t.Hour(), t.Minute(), 0, 0, time.UTC)
		start, end := t.ZoneBounds()
		if got.Before(want) && !end.IsZero() {
			return end
		}
		if got.After(want) && !start.IsZero() {
			return start
		}
		return t
	}
	// A fall-back repeats at most a few hours; step back while an earlier
	// instant shows the same wall time.
	for _, back := range []time.Duration{time.Hour, 30 * time.Minute, 2 * time.Hour} {
		e := t.Add(-back)
		if ey, em, ed := e.Date(); ey == y && em == m && ed == d && e.Hour() == h && e.Minute() == mi {
			return e
		}
	}
	return t
}
