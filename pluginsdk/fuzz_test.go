package pluginsdk

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// FuzzParseDuration: no input panics, and what parses is what a Duration
// in JSON reads.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"30s", "1h30m", "7d", "1d12h", "99999999999d", "1d-1h", "d", "", "-0", "1.5h", "106751d23h47m16s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil || d < 0 || strings.TrimSpace(s) != s {
			return
		}
		raw, _ := json.Marshal(s)
		var got Duration
		if err := json.Unmarshal(raw, &got); err != nil || time.Duration(got) != d {
			t.Errorf("ParseDuration(%q) = %v, but Duration reads %v, %v", s, d, got, err)
		}
	})
}

// FuzzDecodeConfig: no config panics the decoder, and every problem is at
// a path under config.
func FuzzDecodeConfig(f *testing.F) {
	for _, s := range []string{``, `null`, `[1]`, `{"url":"x","port":"80","entities":[{"name":"a","glob":1}]}`,
		`{"headers":{"a":1},"timeout":"1d","window":3.5,"small":-1,"tls":"yes"}`, `{"any":{"x":[null]},"raw":1e999}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var cfg testConfig
		for _, p := range DecodeConfig(json.RawMessage(raw), &cfg).List() {
			if !strings.HasPrefix(p.Path, "config") || p.Message == "" {
				t.Errorf("problem %+v of %q is not at a config path", p, raw)
			}
		}
	})
}
