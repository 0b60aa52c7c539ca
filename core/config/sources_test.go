package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const reloadBase = `apiVersion: junction/v1
kind: Connection
metadata: {name: in}
spec:
  connector: webhook
  auth: {type: api_key, secret: k1}
  config: {dedup_key: id}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: wf}
spec:
  trigger: {connection: in}
  filter: [{path: $.a, op: exists}]
  tasks: [{name: t, uses: directory.upsert_contact}]
`

func TestLoadSourcesReportsUnderTheirNames(t *testing.T) {
	srcs := []Source{
		{Name: "conf/a.yaml", Data: []byte(reloadBase)},
		{Name: "conf/b.yaml", Data: []byte("apiVersion: junction/v1\nkind: Workflow\nmetadata: {name: w2}\nspec:\n  trigger: {connection: nope}\n  tasks: [{name: t, uses: in.post}]\n")},
	}
	b, err := LoadSources(srcs, Options{})
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("err = %v, want one positioned error", err)
	}
	if got := es[0].Error(); !strings.HasPrefix(got, "conf/b.yaml:5:") || !strings.Contains(got, `no Connection named "nope"`) {
		t.Errorf("error = %q, want conf/b.yaml:5:col: ...", got)
	}
	if !slices.Equal(b.Files, []string{"conf/a.yaml", "conf/b.yaml"}) {
		t.Errorf("files = %v", b.Files)
	}
}

func TestReadSourcesMatchesLoad(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"a.yaml": reloadBase, "sub/b.yml": "", ".hidden.yaml": "x: [", "notes.txt": "x"} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	srcs, err := ReadSources([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range srcs {
		names = append(names, filepath.Base(s.Name))
	}
	if !slices.Equal(names, []string{"a.yaml", "b.yml"}) {
		t.Errorf("read %v, want a.yaml and b.yml (hidden and non-YAML files skipped)", names)
	}
	if _, err := ReadSources([]string{filepath.Join(dir, "missing.yaml")}); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing path: %v", err)
	}
}

func TestDigest(t *testing.T) {
	a, b := Source{Name: "a.yaml", Data: []byte("x")}, Source{Name: "b.yaml", Data: []byte("y")}
	for _, tc := range []struct {
		name string
		x, y []Source
		same bool
	}{
		{"order does not matter", []Source{a, b}, []Source{b, a}, true},
		{"content matters", []Source{a}, []Source{{Name: "a.yaml", Data: []byte("z")}}, false},
		{"names matter", []Source{a}, []Source{{Name: "c.yaml", Data: []byte("x")}}, false},
		{"no bytes move between name and body", []Source{{Name: "ab", Data: []byte("c")}}, []Source{{Name: "a", Data: []byte("bc")}}, false},
	} {
		if got := Digest(tc.x) == Digest(tc.y); got != tc.same {
			t.Errorf("%s: same = %v, want %v", tc.name, got, tc.same)
		}
	}
}

func loadOne(t *testing.T, yaml string) *Bundle {
	t.Helper()
	b, err := LoadSources([]Source{{Name: "c.yaml", Data: []byte(yaml)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSameConnection(t *testing.T) {
	base := loadOne(t, reloadBase).Connection("in")
	for _, tc := range []struct {
		name string
		yaml string
		same bool
	}{
		{"moved down its file", "# a comment\n\n" + reloadBase, true},
		{"new secret", strings.Replace(reloadBase, "secret: k1", "secret: k2", 1), false},
		{"new config value", strings.Replace(reloadBase, "dedup_key: id", "dedup_key: ref", 1), false},
		{"new key", strings.Replace(reloadBase, "config: {dedup_key: id}", "config: {dedup_key: id}\n  dedup_window: 1h", 1), false},
	} {
		if got := SameConnection(base, loadOne(t, tc.yaml).Connection("in")); got != tc.same {
			t.Errorf("%s: same = %v, want %v", tc.name, got, tc.same)
		}
	}
}

func TestSettingsChanges(t *testing.T) {
	a := DefaultSettings()
	b := DefaultSettings()
	b.Addr, b.Retention.Events, b.Pos = ":9090", 1, Pos{File: "x", Line: 3}
	if got := SettingsChanges(a, b); !slices.Equal(got, []string{"addr", "retention"}) {
		t.Errorf("changes = %v, want [addr retention]", got)
	}
	if got := SettingsChanges(a, DefaultSettings()); len(got) != 0 {
		t.Errorf("changes of equal settings = %v", got)
	}
}

func TestOpenError(t *testing.T) {
	c := loadOne(t, reloadBase).Connection("in")
	for _, tc := range []struct{ msg, at string }{
		{"connection in: config.dedup_key: not a JSONPath", "c.yaml:7:"},
		{"connection in: config.url is required", "c.yaml:7:"}, // missing key: the config block
		{"connection in: auth.secret is empty", "c.yaml:6:"},
		{"connection in: something else", "c.yaml:1:"},
	} {
		if got := OpenError(c, tc.msg).Error(); !strings.HasPrefix(got, tc.at) || !strings.HasSuffix(got, tc.msg) {
			t.Errorf("OpenError(%q) = %q, want at %s", tc.msg, got, tc.at)
		}
	}
}
