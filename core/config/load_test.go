package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/broken")

// testEnv is the environment every test loads with: tests never read the
// process environment.
var testEnv = map[string]string{
	"WORKERS":           "4",
	"SEGMENT_WRITE_KEY": "write-key",
	"AEP_API_TOKEN":     "aep-token",
	"HOST":              "example.com",
	"EMPTY":             "",
}

func lookup(name string) (string, bool) {
	v, ok := testEnv[name]
	return v, ok
}

// fakeChecker knows a fixed set of connectors, tasks and actions. Only the
// webhook connector's actions can be listed, as for a plugin not yet loaded.
type fakeChecker struct{}

func (fakeChecker) ConnectorKnown(c string) bool {
	switch c {
	case "webhook", "s3", "sftp", "segment", "segment@1.0.0", "aep", "salesforce", "marketo":
		return true
	}
	return false
}

func (fakeChecker) TaskKnown(uses string) bool {
	switch uses {
	case "directory.upsert_contact", "directory.add_transaction", "directory.add_to_mailing_list", "survey.distribute":
		return true
	}
	return false
}

func (fakeChecker) ActionKnown(connector, action string) (bool, bool) {
	if connector == "webhook" {
		return action == "post", true
	}
	return false, false
}

var testOpts = Options{LookupEnv: lookup, Check: fakeChecker{}}

// render is what a golden file holds: the errors as the CLI prints them,
// then the warnings.
func render(b *Bundle, err error) string {
	var s strings.Builder
	if err != nil {
		s.WriteString(FormatErrors(err))
		s.WriteString("\n")
	}
	for _, w := range b.Warnings {
		s.WriteString("warning: " + w.Error() + "\n")
	}
	return s.String()
}

// TestGolden loads each file or folder in testdata/broken on its own and
// compares the exact output with its .golden file (go test -update rewrites
// them).
func TestGolden(t *testing.T) {
	entries, err := os.ReadDir("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".golden") {
			continue
		}
		name := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		path := filepath.Join("testdata/broken", e.Name())
		t.Run(name, func(t *testing.T) {
			b, err := Load([]string{path}, testOpts)
			if err == nil {
				t.Fatalf("Load(%s) succeeded; every broken case must fail", path)
			}
			got := render(b, err)
			golden := filepath.Join("testdata/broken", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}
