package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func loadGood(t *testing.T, opts Options) *Bundle {
	t.Helper()
	b, err := Load([]string{"testdata/good"}, opts)
	if err != nil {
		t.Fatalf("Load(testdata/good):\n%s", FormatErrors(err))
	}
	return b
}

func TestLoadGood(t *testing.T) {
	b := loadGood(t, testOpts)

	wantFiles := []string{
		"testdata/good/connections.yml", "testdata/good/directory.yaml", "testdata/good/settings.yaml",
		"testdata/good/workflows/aep.yaml", "testdata/good/workflows/segment.yaml",
	}
	if !reflect.DeepEqual(b.Files, wantFiles) {
		t.Errorf("Files = %q, want %q", b.Files, wantFiles)
	}

	s := b.Settings
	wantSettings := Settings{
		Addr: "127.0.0.1:9090", DataDir: "/var/lib/junction", PublicURL: "https://junction.example.com",
		Timezone: "Europe/Rome", MaxBodyBytes: 512 << 10, PluginDirs: []string{"plugins", "/opt/junction/plugins"},
		TrustedKeys:       []string{"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
		RequireSignatures: true, Workers: 4,
		Retry:       RetryPolicy{MaxAttempts: 3, InitialInterval: 2 * time.Second, MaxInterval: 5 * time.Minute},
		Retention:   DefaultRetention(),
		MemoryLimit: 256 << 20,
		Store:       DefaultStore(),
		Pos:         Pos{File: "testdata/good/settings.yaml", Line: 2, Col: 1},
	}
	if !reflect.DeepEqual(s, wantSettings) {
		t.Errorf("Settings =\n%+v\nwant\n%+v", s, wantSettings)
	}

	seg := b.Connection("segment-prod")
	if seg == nil {
		t.Fatal("no connection segment-prod")
	}
	if seg.Connector != "segment@1.0.0" || seg.Auth.Type != "api_key" || seg.Auth.Secret != "write-key" {
		t.Errorf("segment-prod = %+v", seg)
	}
	// An unset variable with a default, and a plain scalar re-typed after
	// substitution would show here; batch is a literal int.
	if got := seg.Config; !reflect.DeepEqual(got, map[string]any{"shared_secret": "none", "batch": 100}) {
		t.Errorf("segment-prod config = %#v", got)
	}
	if got, want := seg.ConfigPos["batch"], (Pos{File: "testdata/good/connections.yml", Line: 9, Col: 5}); got != want {
		t.Errorf("ConfigPos[batch] = %v, want %v", got, want)
	}
	if seg.DedupWindow != 36*time.Hour {
		t.Errorf("DedupWindow = %v, want 36h", seg.DedupWindow)
	}
	crm := b.Connection("crm-out")
	if got := crm.Config["note"]; got != "costs $$5, literal ${HOME}" {
		t.Errorf("escaped note = %q", got)
	}
	if !reflect.DeepEqual(crm.Network, Network{AllowHosts: []string{"crm.example.com", "*.example.org:8443"}}) {
		t.Errorf("crm-out network = %+v", crm.Network)
	}
	// Absent auth is not none: the connection does not receive pushes.
	if crm.Auth.Type != "" {
		t.Errorf("crm-out auth type = %q, want \"\" (absent)", crm.Auth.Type)
	}
	mk := b.Connection("marketo")
	wantAuth := Auth{Type: "oauth2", TokenURL: "https://123-abc-456.mktorest.com/identity/oauth/token", ClientID: "id", ClientSecret: "secret",
		Scopes: []string{"leads"}, Pos: Pos{File: "testdata/good/connections.yml", Line: 36, Col: 5}}
	if !reflect.DeepEqual(mk.Auth, wantAuth) {
		t.Errorf("marketo auth = %+v, want %+v", mk.Auth, wantAuth)
	}
	// A schedule without a time zone takes the org's.
	if got := *mk.Schedule; got.Every != 24*time.Hour || got.Start != "02:00" || got.Timezone != "Europe/Rome" {
		t.Errorf("marketo schedule = %+v", got)
	}
	if got := b.Connection("sftp-in").Schedule; got.Cron != "*/15 8-18 * * MON-FRI" || got.Timezone != "America/New_York" {
		t.Errorf("sftp-in schedule = %+v", got)
	}

	if d := b.Directory("POOL_demo"); d == nil || !reflect.DeepEqual(d.Dedup, [][]string{{"email"}, {"phone"}, {"firstName", "lastName"}}) || d.DisplayName != "Demo pool" {
		t.Errorf("POOL_demo = %+v", d)
	}
	if d := b.Directory("POOL_default"); d == nil || !reflect.DeepEqual(d.Dedup, [][]string{{"email"}}) {
		t.Errorf("POOL_default = %+v, want dedup [[email]]", d)
	}
	if s := b.Survey("SV_demo"); s == nil || s.Status != "inactive" || s.Link != "https://surveys.example.com/jfe/form/SV_demo" {
		t.Errorf("SV_demo = %+v", s)
	}
	if s := b.Survey("SV_plain"); s == nil || s.Status != "active" {
		t.Errorf("SV_plain = %+v, want status active", s)
	}
	if b.Connection("nope") != nil || b.Workflow("nope") != nil || b.Directory("nope") != nil || b.Survey("nope") != nil {
		t.Error("lookup of an unknown name returned something")
	}

	wantWarn := "testdata/good/workflows/aep.yaml:5:25: workflow aep-contacts: no filter: every event of aep-automations starts this workflow; at least one filter is recommended"
	if len(b.Warnings) != 1 || b.Warnings[0].Error() != wantWarn {
		t.Errorf("Warnings = %v, want [%s]", b.Warnings, wantWarn)
	}
}

func TestLoadGoodWorkflow(t *testing.T) {
	b := loadGood(t, testOpts)
	w := b.Workflow("segment-transactions")
	if w == nil {
		t.Fatal("no workflow segment-transactions")
	}
	if w.Trigger.Connection != "segment-prod" || len(w.Filter) != 3 || len(w.Fields) != 3 || len(w.Tasks) != 2 {
		t.Fatalf("workflow = %+v", w)
	}
	if w.File != "testdata/good/workflows/segment.yaml" || w.Pos != (Pos{File: w.File, Line: 2, Col: 1}) {
		t.Errorf("File, Pos = %q, %v", w.File, w.Pos)
	}
	if !strings.HasPrefix(string(w.YAML), "# Transactions from Segment.\napiVersion: junction/v1\n") || !strings.HasSuffix(string(w.YAML), "items: [\"{{ .fields.email }}\", 2, true]\n") {
		t.Errorf("YAML =\n%s", w.YAML)
	}
	if got := b.Workflow("nightly").YAML; !strings.HasPrefix(string(got), "apiVersion: junction/v1\nkind: Workflow\nmetadata: {name: nightly}") {
		t.Errorf("nightly YAML =\n%s", got)
	}
	if got := w.Filter[1]; !reflect.DeepEqual(got.Value, []any{"Transaction Created", "Order Completed"}) || got.Op != "in" {
		t.Errorf("filter[1] = %+v", got)
	}
	if got := w.Fields["amount"]; got.Type != "number" || got.Default != 0 || got.Path != "$.properties.revenue" {
		t.Errorf("fields.amount = %+v", got)
	}
	save, notify := w.Tasks[0], w.Tasks[1]
	// The task's own max_attempts, the rest from Settings.Retry.
	if want := (RetryPolicy{MaxAttempts: 10, InitialInterval: 2 * time.Second, MaxInterval: 5 * time.Minute}); save.Retry == nil || *save.Retry != want {
		t.Errorf("save retry = %+v, want %+v", save.Retry, want)
	}
	if save.Timeout != 30*time.Second || notify.Retry != nil || notify.If != "{{ .fields.vip }}" {
		t.Errorf("tasks = %+v", w.Tasks)
	}
	if got, want := notify.WithPos["body.items[0]"], (Pos{File: w.File, Line: 31, Col: 19}); got != want {
		t.Errorf("WithPos[body.items[0]] = %v, want %v", got, want)
	}

	c := w.Compiled
	if c.Filter == nil || c.Fields == nil || c.With["save"] == nil || c.With["notify"] == nil || c.If["notify"] == nil || c.If["save"] != nil {
		t.Fatalf("Compiled = %+v", c)
	}
	event := map[string]any{
		"type": "track", "event": "Order Completed",
		"context":    map[string]any{"traits": map[string]any{"email": "a@example.com"}, "library": map[string]any{"name": "analytics-node"}},
		"properties": map[string]any{"revenue": "12.5", "vip": true},
	}
	if !c.Filter.Match(event) {
		t.Error("compiled filter does not match a matching event")
	}
	fields, err := c.Fields.Apply(event)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.With["save"].Render(map[string]any{"event": event, "fields": fields, "tasks": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"directory": "POOL_demo",
		"contact":   map[string]any{"email": "a@example.com"},
		"data":      map[string]any{"amount": 12.5, "source": "analytics-node"},
	}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("rendered with = %#v, want %#v", out, want)
	}
}

func TestDefaults(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "d.yaml"), "apiVersion: junction/v1\nkind: Directory\nmetadata: {name: POOL_a}\n")
	b, err := Load([]string{dir}, Options{LookupEnv: lookup})
	if err != nil {
		t.Fatal(FormatErrors(err))
	}
	want := Settings{
		Addr: ":8080", DataDir: "./data", Timezone: "UTC", MaxBodyBytes: 1 << 20, PluginDirs: []string{"plugins"},
		Retention: DefaultRetention(),
		Workers:   DefaultWorkers, Retry: RetryPolicy{MaxAttempts: 5, InitialInterval: time.Second, MaxInterval: 5 * time.Minute},
		MemoryLimit: DefaultMemoryLimit, Store: DefaultStore(),
	}
	if !reflect.DeepEqual(b.Settings, want) {
		t.Errorf("Settings = %+v, want %+v", b.Settings, want)
	}
	// An empty Settings document gives the same, with its position.
	writeFile(t, filepath.Join(dir, "s.yaml"), "apiVersion: junction/v1\nkind: Settings\n")
	b, err = Load([]string{dir}, Options{LookupEnv: lookup})
	if err != nil {
		t.Fatal(FormatErrors(err))
	}
	want.Pos = Pos{File: filepath.Join(dir, "s.yaml"), Line: 1, Col: 1}
	if !reflect.DeepEqual(b.Settings, want) {
		t.Errorf("Settings = %+v, want %+v", b.Settings, want)
	}
}

func TestCollectFiles(t *testing.T) {
	dir := t.TempDir()
	doc := func(name string) string {
		return "apiVersion: junction/v1\nkind: Survey\nmetadata: {name: " + name + "}\n"
	}
	writeFile(t, filepath.Join(dir, "b.yml"), doc("b"))
	writeFile(t, filepath.Join(dir, "a", "z.yaml"), doc("z"))
	writeFile(t, filepath.Join(dir, "notes.txt"), "not yaml")
	writeFile(t, filepath.Join(dir, ".hidden.yaml"), "broken: [")
	writeFile(t, filepath.Join(dir, ".git", "x.yaml"), "broken: [")
	extra := filepath.Join(t.TempDir(), "extra.conf")
	writeFile(t, extra, doc("extra"))

	// A folder yields its YAML files sorted; a file named explicitly is read
	// whatever its extension; a path given twice is read once.
	b, err := Load([]string{dir, extra, filepath.Join(dir, "b.yml")}, Options{LookupEnv: lookup})
	if err != nil {
		t.Fatal(FormatErrors(err))
	}
	want := []string{filepath.Join(dir, "a", "z.yaml"), filepath.Join(dir, "b.yml"), extra}
	if !reflect.DeepEqual(b.Files, want) {
		t.Errorf("Files = %q, want %q", b.Files, want)
	}
	if len(b.Surveys) != 3 {
		t.Errorf("got %d surveys, want 3", len(b.Surveys))
	}

	missing := filepath.Join(dir, "nope.yaml")
	_, err = Load([]string{missing}, Options{LookupEnv: lookup})
	if got, want := FormatErrors(err), missing+": stat: no such file or directory"; got != want {
		t.Errorf("missing file: got %q, want %q", got, want)
	}
}

// TestChecker covers what depends on the Checker: with none, connectors are
// not checked and any dotted name is a builtin task.
func TestChecker(t *testing.T) {
	src := `apiVersion: junction/v1
kind: Connection
metadata: {name: out}
spec: {connector: mystery}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: w}
spec:
  trigger: {schedule: {cron: "@hourly"}}
  tasks:
    - {name: a, uses: custom.task}
    - {name: b, uses: out.anything}
    - {name: c, uses: directory.upsert_contact}
`
	file := filepath.Join(t.TempDir(), "w.yaml")
	writeFile(t, file, src)
	if _, err := Load([]string{file}, Options{LookupEnv: lookup}); err != nil {
		t.Errorf("without a Checker: %s", FormatErrors(err))
	}
	_, err := Load([]string{file}, testOpts)
	want := strings.Join([]string{
		file + `:4:19: spec.connector: unknown connector "mystery": not a builtin and no installed plugin has that name`,
		file + `:12:23: spec.tasks[0].uses: "custom.task" is not a builtin task, and there is no Connection named "custom"`,
		"2 errors",
	}, "\n")
	if got := FormatErrors(err); got != want {
		t.Errorf("with a Checker:\n%s\nwant\n%s", got, want)
	}

	// A connection named like a builtin task's namespace makes uses ambiguous.
	amb := filepath.Join(t.TempDir(), "amb.yaml")
	writeFile(t, amb, strings.Replace(strings.Replace(src, "{name: out}", "{name: directory}", 1), "mystery", "webhook", 1))
	_, err = Load([]string{amb}, testOpts)
	if got := FormatErrors(err); !strings.Contains(got, `amb.yaml:14:23: spec.tasks[2].uses: "directory.upsert_contact" is both a builtin task and an action of connection "directory"; rename the connection`) {
		t.Errorf("ambiguous uses: got\n%s", got)
	}
}

// TestAliasesAndMerge checks that anchors, aliases and merge keys work, and
// that interpolation inside an anchor happens once.
func TestAliasesAndMerge(t *testing.T) {
	src := `apiVersion: junction/v1
kind: Connection
metadata: {name: base}
spec:
  connector: webhook
  config: &common {url: "https://${HOST}/x", note: "$${LIT}"}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: derived}
spec:
  connector: webhook
  config:
    <<: *common
    url: https://other.example.com
    extra: *common
`
	file := filepath.Join(t.TempDir(), "a.yaml")
	writeFile(t, file, src)
	b, err := Load([]string{file}, testOpts)
	if err != nil {
		t.Fatal(FormatErrors(err))
	}
	common := map[string]any{"url": "https://example.com/x", "note": "${LIT}"}
	if got := b.Connection("base").Config; !reflect.DeepEqual(got, common) {
		t.Errorf("base config = %#v", got)
	}
	want := map[string]any{"url": "https://other.example.com", "note": "${LIT}", "extra": common}
	if got := b.Connection("derived").Config; !reflect.DeepEqual(got, want) {
		t.Errorf("derived config = %#v, want %#v", got, want)
	}
}

func TestFormatErrors(t *testing.T) {
	one := &Error{Pos: Pos{File: "a.yaml", Line: 3, Col: 5}, Msg: "bad"}
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{Errors{one}, "a.yaml:3:5: bad"},
		{one, "a.yaml:3:5: bad"},
		{Errors{one, {Pos: Pos{File: "b.yaml"}, Msg: "unreadable"}}, "a.yaml:3:5: bad\nb.yaml: unreadable\n2 errors"},
		{os.ErrNotExist, "file does not exist"},
		{Errors{{Pos: Pos{File: "c.yaml", Line: 7}, Msg: "syntax"}}, "c.yaml:7: syntax"},
	}
	for _, tt := range tests {
		if got := FormatErrors(tt.err); got != tt.want {
			t.Errorf("FormatErrors(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
