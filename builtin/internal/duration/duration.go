// Package duration reads duration settings of builtin connector configs,
// which users write either as Go durations ("30s") or as numbers of seconds.
package duration

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Parse reads raw, a JSON string holding a Go duration ("30s") or a JSON
// number of seconds.
func Parse(raw json.RawMessage) (time.Duration, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return 0, fmt.Errorf("want a duration such as 30s, got %q", s)
		}
		return d, nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err != nil {
		return 0, fmt.Errorf("want a duration such as 30s, got %s", raw)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// Bounded is Parse for a limit such as a timeout: it must be more than 0
// and at most max.
func Bounded(raw json.RawMessage, max time.Duration) (time.Duration, error) {
	d, err := Parse(raw)
	if err != nil {
		return 0, err
	}
	if d <= 0 || d > max {
		return 0, fmt.Errorf("%s, want more than 0 and at most %s", d, max)
	}
	return d, nil
}
