package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestInterpolate(t *testing.T) {
	env := map[string]string{"A": "alpha", "EMPTY": "", "N": "42"}
	look := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	tests := []struct {
		in, want string
		missing  []string
		err      string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha"},
		{in: "x-${A}-${N}", want: "x-alpha-42"},
		{in: "${UNSET:-dflt}", want: "dflt"},
		{in: "${EMPTY:-dflt}", want: "dflt"},
		{in: "${EMPTY}", want: ""},
		{in: "${A:-dflt}", want: "alpha"},
		{in: "${UNSET:-}", want: ""},
		{in: "${UNSET:-a:-b}", want: "a:-b"},
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$${A}"},
		{in: "cost $5 and $A", want: "cost $5 and $A"},
		{in: "${UNSET}", want: "", missing: []string{"UNSET"}},
		{in: "${U1}${U2}", want: "", missing: []string{"U1", "U2"}},
		{in: "${A", err: `unterminated ${ in "${A"`},
		{in: "${}", err: `invalid variable name "" in ${}`},
		{in: "${A-B}", err: `invalid variable name "A-B" in ${A-B}`},
		{in: "${9A}", err: `invalid variable name "9A" in ${9A}`},
	}
	for _, tt := range tests {
		got, missing, err := interpolate(tt.in, look, false)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("interpolate(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || (len(tt.missing) == 0 && got != tt.want) || !reflect.DeepEqual(missing, tt.missing) {
			t.Errorf("interpolate(%q) = %q, %q, %v; want %q, %q", tt.in, got, missing, err, tt.want, tt.missing)
		}
	}
}

// TestInterpolateTypes checks that a plain scalar takes the type of what was
// substituted, a quoted one stays a string, and keys are never touched.
func TestInterpolateTypes(t *testing.T) {
	src := `apiVersion: junction/v1
kind: Connection
metadata: {name: c}
spec:
  connector: webhook
  network: {allow_private: "${BOOL}"}
  config:
    int: ${N}
    quoted: "${N}"
    float: ${F}
    empty: ${EMPTY}
    ${KEY}: kept
`
	env := map[string]string{"BOOL": "true", "N": "42", "F": "1.5", "EMPTY": "", "KEY": "no"}
	file := filepath.Join(t.TempDir(), "c.yaml")
	writeFile(t, file, src)
	b, err := Load([]string{file}, Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(FormatErrors(err))
	}
	c := b.Connection("c")
	want := map[string]any{"int": 42, "quoted": "42", "float": 1.5, "empty": "", "${KEY}": "kept"}
	if !reflect.DeepEqual(c.Config, want) || !c.Network.AllowPrivate {
		t.Errorf("config = %#v, network = %+v; want %#v", c.Config, c.Network, want)
	}

	// A quoted literal is still a string where a bool is wanted.
	writeFile(t, file, strings.Replace(src, `"${BOOL}"`, `"true"`, 1))
	_, err = Load([]string{file}, Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if got, want := FormatErrors(err), file+":6:28: spec.network.allow_private: want bool, got string"; got != want {
		t.Errorf("quoted literal bool: got %q, want %q", got, want)
	}
}

func TestSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  string
	}{
		{"1048576", 1 << 20, ""},
		{"1MiB", 1 << 20, ""},
		{"512KB", 512000, ""},
		{"512 kib", 512 << 10, ""},
		{"2GB", 2e9, ""},
		{"10B", 10, ""},
		{"0", 0, "want a positive size"},
		{"1.5MB", 0, "want a size such as"},
		{"12 parsecs", 0, "want a size such as"},
		{"99999999999GiB", 0, "too large"},
		{"{a: 1}", 0, "got mapping"},
	}
	for _, tt := range tests {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte("v: "+tt.in), &n); err != nil {
			t.Fatal(err)
		}
		d := &decoder{file: "f"}
		got, ok := d.size(n.Content[0].Content[1], "v")
		switch {
		case tt.err == "" && (!ok || got != tt.want):
			t.Errorf("size(%q) = %d, %v (%v); want %d", tt.in, got, ok, d.errs, tt.want)
		case tt.err != "" && (ok || len(d.errs) != 1 || !strings.Contains(d.errs[0].Msg, tt.err)):
			t.Errorf("size(%q) = %d, %v, errs %v; want error %q", tt.in, got, ok, d.errs, tt.err)
		}
	}
}

func TestCheckCron(t *testing.T) {
	tests := []struct {
		expr, err string
	}{
		{"* * * * *", ""},
		{"*/15 8-18 * * MON-FRI", ""},
		{"0 0 1,15 jan,jul 0", ""},
		{"0 0 * * 7", ""},
		{"5-10/2 * * * *", ""},
		{"@daily", ""},
		{"@dayly", `unknown cron descriptor "@dayly" (did you mean "@daily"?)`},
		{"* * * *", "want 5 fields"},
		{"60 * * * *", `minute: "60" is not a value from 0 to 59`},
		{"* 24 * * *", `hour: "24" is not a value`},
		{"* * 0 * *", `day of month: "0" is not a value from 1 to 31`},
		{"* * * 13 *", `month: "13" is not a value`},
		{"* * * * 8", `day of week: "8" is not a value`},
		{"10-5 * * * *", `range "10-5" runs backwards`},
		{"*/0 * * * *", `bad step "0"`},
		{"* * * FOO *", `month: "FOO" is not a value`},
	}
	for _, tt := range tests {
		err := checkCron(tt.expr)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("checkCron(%q) = %v, want %q", tt.expr, err, tt.err)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"trigger", "filter", "fields", "tasks", "description", "data_dir"}
	tests := []struct{ got, want string }{
		{"filtr", "filter"},
		{"feilds", "fields"},
		{"triger", "trigger"},
		{"Tasks", "tasks"},
		{"dataDir", "data_dir"},
		{"task", "tasks"},
		{"zzz", ""},
		{"spec", ""},
		{"descr", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.got, keys); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.got, got, tt.want)
		}
	}
}

// TestAliasLoops checks that a value containing itself, directly or through a
// merge, and an alias bomb are errors rather than hangs.
func TestAliasLoops(t *testing.T) {
	head := "apiVersion: junction/v1\nkind: Connection\nmetadata: {name: x}\nspec:\n  connector: webhook\n"
	bomb := head + "  config:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g"} {
		bomb += "    " + name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	tests := []struct{ name, src, want string }{
		{"self alias", head + "  config: &a {b: *a}\n", "f.yaml:6:18: spec.config.b.b: alias *a refers to a value that contains it"},
		{"self merge", head + "  config: &a {<<: *a}\n", "f.yaml:6:11: spec.config: merge (<<) refers to a mapping that contains it"},
		{"bomb", bomb, "f.yaml:7:39: spec.config.f[0][6][8][8][8][9]: the file expands to more than 200000 values through aliases"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLoader(Options{LookupEnv: lookup})
			l.loadBytes("f.yaml", []byte(tt.src))
			if len(l.errs) != 1 || l.errs[0].Error() != tt.want {
				t.Errorf("errors = %v, want [%s]", l.errs, tt.want)
			}
		})
	}
}
