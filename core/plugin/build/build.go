// Package build compiles a connector plugin from source: to a Wasm reactor
// module (GOOS=wasip1 GOARCH=wasm -buildmode=c-shared) or to a native
// go-plugin executable. It wraps `go build` (the Go toolchain must be on
// PATH), reports progress while the compiler runs, and returns the
// compiler's output inside the error when the build fails.
package build

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Targets.
const (
	TargetWasm     = "wasm"
	TargetGoPlugin = "goplugin"
)

// Options says what to build.
type Options struct {
	// Dir is the plugin's main package directory.
	Dir string
	// Out is the file to write (.wasm for TargetWasm).
	Out string
	// Target is TargetWasm (the default when empty) or TargetGoPlugin.
	Target string
	// Progress receives human-readable progress lines; nil means quiet.
	Progress io.Writer
	// OS and Arch cross-build a go-plugin executable (cgo off, so the
	// result is static); "" means this host's.
	OS, Arch string
}

// tick is how often a running build reports that it is still running.
const tick = 2 * time.Second

// Build compiles o.Dir into o.Out.
func Build(ctx context.Context, o Options) error {
	if o.Target == "" {
		o.Target = TargetWasm
	}
	if o.Out == "" {
		return errors.New("build plugin: no output file given")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return fmt.Errorf("build plugin %s: %w", o.Dir, err)
	}
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return fmt.Errorf("build plugin %s: %w", o.Dir, err)
	}
	if err := checkSource(dir); err != nil {
		return fmt.Errorf("build plugin %s: %w", o.Dir, err)
	}
	args := []string{"build", "-v", "-trimpath", "-buildvcs=false", "-o", out}
	env := os.Environ()
	switch o.Target {
	case TargetWasm:
		args = append(args, "-buildmode=c-shared")
		env = append(env, "GOOS=wasip1", "GOARCH=wasm")
	case TargetGoPlugin:
		// Pin the host platform: an inherited GOOS/GOARCH would produce a
		// binary the host cannot start.
		goos, goarch := runtime.GOOS, runtime.GOARCH
		if o.OS != "" || o.Arch != "" {
			goos, goarch = o.OS, o.Arch
			env = append(env, "CGO_ENABLED=0")
		}
		env = append(env, "GOOS="+goos, "GOARCH="+goarch)
	default:
		return fmt.Errorf("build plugin %s: unknown target %q (want %q or %q)", o.Dir, o.Target, TargetWasm, TargetGoPlugin)
	}
	args = append(args, ".")
	goBin, err := goTool()
	if err != nil {
		return fmt.Errorf("build plugin %s: %w", o.Dir, err)
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("build plugin %s: %w", o.Dir, err)
	}

	p := &progress{w: o.Progress, start: time.Now(), name: o.Dir}
	p.printf("building %s (%s) -> %s", o.Dir, o.Target, o.Out)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return fmt.Errorf("build plugin %s: %w", o.Dir, err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("build plugin %s: start %s: %w", o.Dir, goBin, err)
	}
	stop := p.ticker()
	compilerOut := p.scan(stderr)
	err = cmd.Wait()
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build plugin %s: %w", o.Dir, ctx.Err())
		}
		msg := strings.TrimSpace(compilerOut + stdout.String())
		return fmt.Errorf("build plugin %s (%s): go build: %w\n%s", o.Dir, o.Target, err, msg)
	}
	fi, err := os.Stat(out)
	if err != nil {
		return fmt.Errorf("build plugin %s: %w", o.Dir, err)
	}
	p.printf("built %s (%.1f MB) in %s", o.Out, float64(fi.Size())/(1<<20), time.Since(p.start).Round(100*time.Millisecond))
	return nil
}

// checkSource fails early, with a clearer message than the compiler's, when
// dir is not a Go package directory.
func checkSource(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go") {
			return nil
		}
	}
	return fmt.Errorf("no Go source files in %s", dir)
}

func goTool() (string, error) {
	if p, err := exec.LookPath("go"); err == nil {
		return p, nil
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	return "", errors.New("the go toolchain is not on PATH (building a plugin needs Go 1.24 or later)")
}

// progress prints what the build is doing: each package the compiler starts
// (go build -v), and a heartbeat while a long step runs.
type progress struct {
	w     io.Writer
	start time.Time
	name  string

	mu   sync.Mutex
	last string // package being compiled
}

func (p *progress) printf(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *progress) elapsed() time.Duration { return time.Since(p.start).Round(time.Second) }

// scan reads the compiler's stderr: bare import paths are packages starting
// to compile (reported as progress); everything else is compiler output,
// returned for the error message.
func (p *progress) scan(r io.Reader) string {
	var out strings.Builder
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		line := s.Text()
		if line != "" && !strings.ContainsAny(line, " \t:") {
			p.mu.Lock()
			p.last = line
			p.mu.Unlock()
			p.printf("  compiling %s (%s)", line, p.elapsed())
			continue
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.String()
}

// ticker prints a heartbeat every tick until the returned stop is called.
func (p *progress) ticker() (stop func()) {
	if p.w == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.mu.Lock()
				last := p.last
				p.mu.Unlock()
				if last == "" {
					last = p.name
				}
				p.printf("  still building: %s (%s)", last, p.elapsed())
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}
