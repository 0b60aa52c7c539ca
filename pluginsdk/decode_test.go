package pluginsdk

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

type testEntity struct {
	Name string `json:"name"`
	Glob string `json:"glob"`
}

type testShared struct {
	Format string `json:"format"`
}

type testConfig struct {
	URL      string            `json:"url"`
	Port     int               `json:"port"`
	Ratio    float64           `json:"ratio"`
	TLS      *bool             `json:"tls"`
	Timeout  Duration          `json:"timeout"`
	Window   time.Duration     `json:"window"`
	Headers  map[string]string `json:"headers"`
	Entities []struct {
		testEntity
		testShared
		Path string `json:"path"`
	} `json:"entities"`
	Raw      json.RawMessage `json:"raw"`
	Any      any             `json:"any"`
	Small    uint8           `json:"small"`
	Window2  *Duration       `json:"window2"`
	Internal string          `json:"-"`
	Insecure any             `json:"insecure" refused:"checks are never skipped"`
}

func TestDecodeConfigProblems(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string // every problem, in order
	}{
		{"empty", ``, nil},
		{"null", `null`, nil},
		{"all good", `{"url":"https://x","port":8080,"tls":true,"timeout":"30s","headers":{"a":"b"},
			"entities":[{"name":"p","glob":"*.csv","format":"csv","path":"/in"}],"raw":{"x":[1]},"any":[1,"a"],"small":7}`, nil},
		{"not an object", `[1]`, []string{"config: want an object (key: value), got [1]"}},
		{"not JSON", `{"url":`, []string{"config: not valid JSON"}},
		{"unknown key, close", `{"urls":"x"}`, []string{"config.urls: unknown key; did you mean url?"}},
		{"unknown key, case", `{"URL":"x"}`, []string{"config.URL: unknown key; did you mean url?"}},
		{"unknown key, prefix", `{"timeout_seconds":5}`, []string{"config.timeout_seconds: unknown key; did you mean timeout?"}},
		{"unknown key, far", `{"colour":"red"}`, []string{
			"config.colour: unknown key; want url, port, ratio, tls, timeout, window, headers, entities, raw, any, small, window2"}},
		{"skipped field is unknown", `{"Internal":"x"}`, []string{"config.Internal: unknown key; want url, port, ratio, tls, timeout, window, headers, entities, raw, any, small, window2"}},
		{"wrong types", `{"url":5,"port":"eighty","ratio":"x","tls":"maybe","headers":[1],"entities":{}}`, []string{
			"config.url: want a string, got 5",
			`config.port: want a whole number, got "eighty"`,
			`config.ratio: want a number, got "x"`,
			`config.tls: want true or false, got "maybe"`,
			"config.headers: want an object (key: value), got [1]",
			"config.entities: want a list, got {}",
		}},
		{"tls is not a number", `{"tls":1}`, []string{"config.tls: want true or false, got 1"}},
		{"fraction", `{"port":1.5}`, []string{"config.port: want a whole number, got 1.5"}},
		{"out of range", `{"small":300,"port":1e30}`, []string{"config.small: 300 is out of range", "config.port: 1e30 is out of range"}},
		{"negative uint", `{"small":-1}`, []string{"config.small: -1 is out of range"}},
		{"bad durations", `{"timeout":"soon","window":-3}`, []string{
			`config.timeout: want a duration such as 10s, got "soon"`, "config.window: -3s is negative"}},
		{"refused key", `{"insecure":true,"url":"x"}`, []string{"config.insecure: not supported: checks are never skipped"}},
		{"blank duration pointer stays unset", `{"window2":" "}`, nil},
		{"refused key, null", `{"insecure":null}`, nil},
		{"nested path", `{"entities":[{"name":"a"},{"name":"b","glob":7,"formt":"csv"}]}`, []string{
			"config.entities[1].glob: want a string, got 7",
			"config.entities[1].formt: unknown key; did you mean format?",
		}},
		{"map values", `{"headers":{"b":1,"a":"ok","c":true}}`, []string{
			"config.headers.b: want a string, got 1", "config.headers.c: want a string, got true"}},
		{"long value is clipped", `{"url":["` + strings.Repeat("x", 80) + `"]}`, []string{
			`config.url: want a string, got ["` + strings.Repeat("x", 38) + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg testConfig
			p := DecodeConfig(json.RawMessage(tt.raw), &cfg)
			var got []string
			for _, pr := range p.List() {
				got = append(got, pr.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems\n%q\nwant\n%q", got, tt.want)
			}
			if err := p.Err(); (err == nil) != (len(tt.want) == 0) {
				t.Errorf("Err() = %v with %d problems", err, len(tt.want))
			}
		})
	}
}

func TestDecodeConfigValues(t *testing.T) {
	cfg := testConfig{Port: 587, Timeout: Duration(time.Minute), Window: time.Hour}
	p := DecodeConfig(json.RawMessage(`{"port":"465","tls":"false","timeout":null,"window":"2d","ratio":"0.5",
		"entities":[{"name":"p","format":"ndjson","path":"/in"}],"raw":[1, 2],"small":"9"}`), &cfg)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 465 || cfg.TLS == nil || *cfg.TLS || cfg.Ratio != 0.5 || cfg.Small != 9 {
		t.Errorf("strings holding numbers and booleans: port %d tls %v ratio %v small %d", cfg.Port, cfg.TLS, cfg.Ratio, cfg.Small)
	}
	if cfg.Timeout != Duration(time.Minute) {
		t.Errorf("null timeout = %v, want the default kept", cfg.Timeout)
	}
	if cfg.Window != 48*time.Hour {
		t.Errorf("time.Duration field = %v, want 48h", cfg.Window)
	}
	if len(cfg.Entities) != 1 || cfg.Entities[0].Name != "p" || cfg.Entities[0].Format != "ndjson" || cfg.Entities[0].Path != "/in" {
		t.Errorf("embedded fields: %+v", cfg.Entities)
	}
	if cfg.Window2 != nil {
		t.Errorf("unset *Duration = %v, want nil", *cfg.Window2)
	}
	p = DecodeConfig(json.RawMessage(`{"window2":"0s"}`), &cfg)
	if p.Err() != nil || cfg.Window2 == nil || *cfg.Window2 != 0 {
		t.Errorf("window2 0s: %v, %v", p.Err(), cfg.Window2)
	}
	if string(cfg.Raw) != "[1, 2]" {
		t.Errorf("raw = %s", cfg.Raw)
	}
}

func TestProblemsErr(t *testing.T) {
	var p Problems
	if p.Err() != nil {
		t.Fatal("no problems, but an error")
	}
	p.At("config.host", "required")
	p.Addf("set a or b, not both")
	p.Check("config.timeout", Duration(0).Positive(time.Minute))
	p.Check("config.url", nil)
	err := p.Err()
	var pe *Error
	if !asError(err, &pe) || pe.Retryable {
		t.Fatalf("Err() = %#v, want a permanent *Error", err)
	}
	if want := "config.host: required; set a or b, not both; config.timeout: 0s, want more than 0 and at most 1m0s"; err.Error() != want {
		t.Errorf("Err() = %q\nwant   %q", err, want)
	}
	if !p.Has("config.timeout") || p.Has("config.url") {
		t.Errorf("Has: timeout %v, url %v", p.Has("config.timeout"), p.Has("config.url"))
	}
	if p.Len() != 3 {
		t.Errorf("Len() = %d", p.Len())
	}
}

func TestContextDecodeConfig(t *testing.T) {
	var cfg testConfig
	c := &Context{Config: json.RawMessage(`{"url":"x","prot":1}`)}
	err := c.DecodeConfig(&cfg)
	if err == nil || err.Error() != "config.prot: unknown key; did you mean port?" || cfg.URL != "x" {
		t.Errorf("DecodeConfig = %v, url %q", err, cfg.URL)
	}
	if err := (&Context{}).DecodeConfig(&cfg); err != nil {
		t.Errorf("no config: %v", err)
	}
	if err := c.DecodeConfig(cfg); err == nil || !strings.Contains(err.Error(), "want a non-nil pointer") {
		t.Errorf("a non-pointer: %v", err)
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

// TestDecodeDurationKeepsDefault is the table fileimport.ParseDuration was
// tested with, when it was the file connectors' own duration reader.
func TestDecodeDurationKeepsDefault(t *testing.T) {
	var problems []string
	for _, tt := range []struct {
		raw  string
		want time.Duration
	}{{`"1m30s"`, 90 * time.Second}, {`45`, 45 * time.Second}, {``, time.Hour}, {`null`, time.Hour}, {`"x"`, time.Hour}, {`-1`, time.Hour}} {
		cfg := struct {
			K time.Duration `json:"k"`
		}{K: time.Hour}
		raw := `{}`
		if tt.raw != "" {
			raw = `{"k":` + tt.raw + `}`
		}
		for _, p := range DecodeConfig(json.RawMessage(raw), &cfg).List() {
			problems = append(problems, p.String())
		}
		if cfg.K != tt.want {
			t.Errorf("k: %s = %s, want %s", tt.raw, cfg.K, tt.want)
		}
	}
	if len(problems) != 2 || !strings.HasPrefix(problems[0], "config.k:") {
		t.Errorf("problems %v", problems)
	}
}

func TestHostSettings(t *testing.T) {
	tests := []struct {
		raw  string
		cap  int
		want []string
	}{
		{`{}`, DefaultMaxEvents, nil},
		{`{"dedup_window":"7d","pool_size":2,"max_events":50,"secret":"s"}`, 50, nil},
		{`{"dedup_window":"0s","pool_size":0,"max_events":-1}`, DefaultMaxEvents, []string{
			"config.dedup_window: 0s, want more than 0", "config.pool_size: 0, want 1 or more Wasm instances",
			"config.max_events: -1, want a positive number of events per request"}},
	}
	for _, tt := range tests {
		var cfg struct {
			HostSettings
			Secret string `json:"secret"`
		}
		p := DecodeConfig(json.RawMessage(tt.raw), &cfg)
		cfg.Check(p)
		var got []string
		for _, pr := range p.List() {
			got = append(got, pr.String())
		}
		if !reflect.DeepEqual(got, tt.want) || cfg.EventCap() != tt.cap {
			t.Errorf("%s: problems %q, cap %d; want %q, %d", tt.raw, got, cfg.EventCap(), tt.want, tt.cap)
		}
	}
}
