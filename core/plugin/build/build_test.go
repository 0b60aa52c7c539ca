package build_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/junctionhub/junction/core/plugin/build"
)

// syncBuffer collects progress lines written from the build's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestBuildTargets(t *testing.T) {
	tests := []struct {
		target string
		magic  []byte
	}{
		{build.TargetWasm, []byte("\x00asm")},
		{build.TargetGoPlugin, nil}, // a native executable of this platform
	}
	for _, tt := range tests {
		t.Run(tt.target, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "sub", "plugin.bin")
			var progress syncBuffer
			err := build.Build(context.Background(), build.Options{Dir: "testdata/ok", Out: out, Target: tt.target, Progress: &progress})
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if tt.magic != nil && !bytes.HasPrefix(b, tt.magic) {
				t.Errorf("output starts with %q, want %q", b[:4], tt.magic)
			}
			if tt.magic == nil {
				fi, _ := os.Stat(out)
				if fi.Mode()&0o111 == 0 {
					t.Errorf("go-plugin output is not executable: %v", fi.Mode())
				}
			}
			p := progress.String()
			if !strings.Contains(p, "building testdata/ok ("+tt.target+")") || !strings.Contains(p, "built "+out) {
				t.Errorf("progress lacks start or end lines:\n%s", p)
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.wasm")
	tests := []struct {
		name string
		o    build.Options
		want []string
	}{
		{"compiler error", build.Options{Dir: "testdata/broken", Out: out}, []string{"build plugin testdata/broken (wasm): go build", "main.go:4", "undefined: undefinedThing"}},
		{"no sources", build.Options{Dir: "testdata/empty", Out: out}, []string{"no Go source files"}},
		{"missing dir", build.Options{Dir: "testdata/nope", Out: out}, []string{"testdata/nope"}},
		{"unknown target", build.Options{Dir: "testdata/ok", Out: out, Target: "jar"}, []string{`unknown target "jar"`}},
		{"no output", build.Options{Dir: "testdata/ok"}, []string{"no output file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := build.Build(context.Background(), tt.o)
			if err == nil {
				t.Fatal("Build succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestBuildCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := build.Build(ctx, build.Options{Dir: "testdata/ok", Out: filepath.Join(t.TempDir(), "x.wasm")})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("Build with a cancelled context: %v", err)
	}
}
