package pluginsdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a duration setting of a connection's config, the one way every
// connector (and the host) reads one. In JSON (the YAML config, converted) it
// is either a string, a Go duration with an optional leading count of days
// ("30s", "1h30m", "7d", "1d12h"), or a number of seconds (30, 1.5): the ways
// a YAML author writes one. An empty string and null leave the value as it
// was, so a default set before decoding survives an unset ${VAR}. A negative
// duration is refused: no setting means anything by one.
type Duration time.Duration

// durationHint is the example every duration problem gives.
const durationHint = "want a duration such as 10s"

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var v time.Duration
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%s, got %s", durationHint, clip(b))
		}
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
		p, err := ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%s, got %q", durationHint, s)
		}
		v = p
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		secs, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("%s, got %s", durationHint, clip(b))
		}
		if ns := secs * float64(time.Second); math.Abs(ns) >= math.MaxInt64 {
			return fmt.Errorf("%s seconds is too long", b)
		}
		v = time.Duration(secs * float64(time.Second))
	default:
		return fmt.Errorf("%s, got %s", durationHint, clip(b))
	}
	if v < 0 {
		return fmt.Errorf("%s is negative", v)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the Go form ("1m30s"), which UnmarshalJSON reads back.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

func (d Duration) String() string { return time.Duration(d).String() }

// Positive returns an error unless 0 < d <= max; max 0 sets no upper
// bound. It suits limits such as timeouts, where 0 would mean "fail at
// once" and a long one holds a worker the engine's retries should free.
func (d Duration) Positive(max time.Duration) error {
	switch {
	case max > 0 && (d <= 0 || time.Duration(d) > max):
		return fmt.Errorf("%s, want more than 0 and at most %s", d, max)
	case d <= 0:
		return fmt.Errorf("%s, want more than 0", d)
	}
	return nil
}

var errDays = errors.New("too many days")

// ParseDuration reads a Go duration with an optional leading count of days
// ("7d", "1d12h"): dedup windows, retention and schedules are often set in
// days, which time.ParseDuration does not know. The hub's own YAML and
// every connector's config read durations through it, so "7d" means the same
// everywhere.
func ParseDuration(s string) (time.Duration, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i == len(s) || s[i] != 'd' {
		return time.ParseDuration(s)
	}
	days, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || days > math.MaxInt64/int64(24*time.Hour) {
		return 0, fmt.Errorf("%q: %w", s, errDays)
	}
	d := time.Duration(days) * 24 * time.Hour
	if rest := s[i+1:]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", s, err)
		}
		if r < 0 {
			return 0, fmt.Errorf("%q: the part after the days is negative", s)
		}
		if d > math.MaxInt64-r {
			return 0, fmt.Errorf("%q: %w", s, errDays)
		}
		d += r
	}
	return d, nil
}
