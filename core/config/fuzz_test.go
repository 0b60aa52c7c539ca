package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes through decoding and validation: it must
// never panic, and every problem must point inside the file.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/good", "testdata/good/workflows", "testdata/broken"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l := newLoader(Options{LookupEnv: lookup, Check: fakeChecker{}})
		l.loadBytes("f.yaml", data)
		l.finish()
		lines := countLines(data) + 1
		for _, e := range append(l.errs, l.warnings...) {
			if e.Pos.File != "f.yaml" || e.Pos.Line < 0 || e.Pos.Line > lines || e.Msg == "" {
				t.Fatalf("problem outside the file (%d lines): %v", lines, e)
			}
		}
	})
}

// BenchmarkLoad loads the sample configuration: five files, fifteen
// documents, three workflows compiled.
func BenchmarkLoad(b *testing.B) {
	docs := 0
	for b.Loop() {
		bundle, err := Load([]string{"testdata/good"}, testOpts)
		if err != nil {
			b.Fatal(err)
		}
		docs = 1 + len(bundle.Connections) + len(bundle.Workflows) + len(bundle.Directories) + len(bundle.Surveys)
	}
	b.ReportMetric(float64(docs*b.N)/b.Elapsed().Seconds(), "docs/s")
}
