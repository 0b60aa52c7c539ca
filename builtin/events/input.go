package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Defaults and bounds of the `with:` keys.
const (
	DefaultWindow = time.Hour
	DefaultLimit  = 100_000
	// MaxLimit bounds one run's output: the records travel in the run
	// record (the collect task's output and the export's input), so a run
	// of a million 200-byte records is already 400 MB of run state.
	MaxLimit = 1_000_000
)

// input is the checked `with:` block of events.collect.
type input struct {
	connection    string
	entity        string
	window        time.Duration
	at            time.Time
	limit         int
	includeSource bool
}

var inputKeys = []string{"at", "connection", "entity", "include_source", "limit", "window"}

// parseInput checks the rendered `with:` block and reports every problem at
// once, by key, as a permanent error: retrying cannot fix a configuration.
func parseInput(raw json.RawMessage) (input, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return input{}, pluginsdk.Errorf("events.collect: with: want an object with connection, window and at (e.g. at: \"{{ .event.scheduledAt }}\")")
	}
	var problems []string
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if i := sort.SearchStrings(inputKeys, k); i == len(inputKeys) || inputKeys[i] != k {
			problems = append(problems, fmt.Sprintf("with.%s is not a known key (%s)", k, strings.Join(inputKeys, ", ")))
		}
	}
	in := input{window: DefaultWindow, limit: DefaultLimit}
	before := len(problems)
	in.connection, problems = str(m, "connection", problems)
	if len(problems) == before && in.connection == "" {
		problems = append(problems, "with.connection is required: the name of the connection whose events to collect")
	}
	in.entity, problems = str(m, "entity", problems)

	if w, ok := present(m, "window"); ok {
		var s string
		if err := json.Unmarshal(w, &s); err != nil {
			problems = append(problems, fmt.Sprintf("with.window: want a duration such as \"1h\" or \"24h\", got %s", short(w)))
		} else if d, err := pluginsdk.ParseDuration(strings.TrimSpace(s)); err != nil {
			problems = append(problems, fmt.Sprintf("with.window %q: want a duration such as \"1h\", \"30m\" or \"24h\"", s))
		} else if d <= 0 {
			problems = append(problems, fmt.Sprintf("with.window %q: must be positive", s))
		} else {
			in.window = d
		}
	}

	if a, ok := present(m, "at"); !ok {
		problems = append(problems, "with.at is required: the end of the window, RFC 3339 (in a scheduled workflow: at: \"{{ .event.scheduledAt }}\")")
	} else {
		var s string
		if err := json.Unmarshal(a, &s); err != nil {
			problems = append(problems, fmt.Sprintf("with.at: want an RFC 3339 time such as \"2024-05-01T10:00:00Z\", got %s", short(a)))
		} else if t, err := time.Parse(time.RFC3339, strings.TrimSpace(s)); err != nil {
			problems = append(problems, fmt.Sprintf("with.at %q: want an RFC 3339 time such as \"2024-05-01T10:00:00Z\"", s))
		} else {
			in.at = t.UTC()
		}
	}

	if l, ok := present(m, "limit"); ok {
		n, err := integer(l)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("with.limit: want a whole number, got %s", short(l)))
		case n < 1 || n > MaxLimit:
			problems = append(problems, fmt.Sprintf("with.limit %d: want 1 to %d", n, MaxLimit))
		default:
			in.limit = int(n)
		}
	}
	if b, ok := present(m, "include_source"); ok {
		if err := json.Unmarshal(b, &in.includeSource); err != nil {
			problems = append(problems, fmt.Sprintf("with.include_source: want true or false, got %s", short(b)))
		}
	}
	if len(problems) > 0 {
		return input{}, pluginsdk.Errorf("events.collect: %s", strings.Join(problems, "; "))
	}
	return in, nil
}

// present returns a key's value unless it is absent or null (a template
// referring to something missing renders to null).
func present(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	v, ok := m[key]
	if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil, false
	}
	return v, true
}

func str(m map[string]json.RawMessage, key string, problems []string) (string, []string) {
	v, ok := present(m, key)
	if !ok {
		return "", problems
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", append(problems, fmt.Sprintf("with.%s: want a string, got %s", key, short(v)))
	}
	return strings.TrimSpace(s), problems
}

// integer accepts 100000 and "100000" (a templated value renders to text).
func integer(v json.RawMessage) (int64, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return 0, err
	}
	return n.Int64()
}

// short shows a bad value in an error message without flooding it.
func short(v json.RawMessage) string {
	s := string(bytes.TrimSpace(v))
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
