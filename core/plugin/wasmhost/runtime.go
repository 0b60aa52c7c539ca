// Package wasmhost runs connector plugins compiled to WebAssembly (Go reactor
// modules built with pluginsdk/serve) inside wazero, and adapts each to
// pluginsdk.Connector so the rest of Junction never knows the form.
//
// A Runtime compiles a module once (the compiled code is cached on disk when
// RuntimeOptions.CacheDir is set) and checks its ABI and Spec; a Module then
// yields one Connector per configured connection, backed by a pool of
// instances. Each call runs under a deadline (the runaway instance is closed
// and replaced), within a memory limit, with no filesystem, sockets or
// arguments, and no environment but the Go GC settings the host chooses
// (guestgc.go): the guest reaches the world only through the host functions
// of the connection's pluginsdk.Context (HTTP, KV, Log).
//
// The ABI is defined in pluginsdk/wasm/abi; pluginsdk/RATIONALE.md explains it.
package wasmhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// Defaults for zero options.
const (
	DefaultMemoryLimitPages = 1024 // 64 MiB
	DefaultCallTimeout      = 10 * time.Second
	DefaultPoolSize         = 4
)

// RuntimeOptions configures a Runtime.
type RuntimeOptions struct {
	// CacheDir keeps compiled machine code across restarts
	// (wazero.NewCompilationCacheWithDir); "" caches in memory only.
	CacheDir string
	// MemoryLimitPages caps each instance's linear memory, in 64 KiB pages
	// (default 1024 = 64 MiB).
	MemoryLimitPages uint32
	// CallTimeout bounds each call unless PoolOptions says otherwise
	// (default 10s).
	CallTimeout time.Duration
	// Logger receives compile events and guest output not tied to a
	// connection (default slog.Default()).
	Logger *slog.Logger
}

// Runtime compiles and runs Wasm connector modules. It is safe for
// concurrent use.
type Runtime struct {
	rt    wazero.Runtime
	cache wazero.CompilationCache
	opts  RuntimeOptions
	log   *slog.Logger
}

// NewRuntime creates a runtime with WASI preview 1 and Junction's host
// functions available to the modules it runs.
func NewRuntime(ctx context.Context, o RuntimeOptions) (*Runtime, error) {
	if o.MemoryLimitPages == 0 {
		o.MemoryLimitPages = DefaultMemoryLimitPages
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// No WithCloseOnContextDone: calls are interrupted by the loop checks
	// instrument adds, which cost far less (see instrument.go).
	cfg := wazero.NewRuntimeConfig().WithMemoryLimitPages(o.MemoryLimitPages)
	r := &Runtime{opts: o, log: o.Logger}
	if o.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(o.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wasm runtime: compilation cache %s: %w", o.CacheDir, err)
		}
		r.cache = cache
		cfg = cfg.WithCompilationCache(cache)
	}
	r.rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.rt); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("wasm runtime: instantiate WASI: %w", err)
	}
	if err := r.instantiateHost(ctx); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("wasm runtime: instantiate host functions: %w", err)
	}
	return r, nil
}

// Close releases every module and instance of the runtime.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.rt.Close(ctx)
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

// Module is a compiled connector module whose ABI and Spec were checked.
type Module struct {
	r     *Runtime
	cm    wazero.CompiledModule
	spec  pluginsdk.Spec
	label string // name@version, for errors and logs
	// env is every instance's environment: the guest's GC settings only
	// (guestGCEnv), never the host's.
	env [][2]string
}

// Compile compiles a module (from the disk cache when possible), then runs
// one throwaway instance to check the ABI it declares and read its Spec.
func (r *Runtime) Compile(ctx context.Context, wasm []byte) (*Module, error) {
	start := time.Now()
	guarded, err := instrument(wasm)
	if err != nil {
		return nil, fmt.Errorf("wasm module: %w", err)
	}
	cm, err := r.rt.CompileModule(ctx, guarded)
	if err != nil {
		return nil, fmt.Errorf("wasm module: compile: %w", err)
	}
	m := &Module{r: r, cm: cm, label: "module"}
	if err := m.checkShape(); err != nil {
		_ = cm.Close(ctx)
		return nil, fmt.Errorf("wasm module: %w", err)
	}
	m.env = guestGCEnv(cm, r.opts.MemoryLimitPages)
	compiled := time.Since(start)
	if err := m.readSpec(ctx); err != nil {
		_ = cm.Close(ctx)
		return nil, err
	}
	r.log.Debug("wasm module compiled", "connector", m.label, "compile", compiled, "total", time.Since(start))
	return m, nil
}

// checkShape verifies the exports and imports a Junction connector module
// must have, so that a wrong file fails with a message and not a trap.
func (m *Module) checkShape() error {
	exports := m.cm.ExportedFunctions()
	for _, name := range []string{abi.ExportABI, abi.ExportBuffer, abi.ExportHandle, abi.ExportInitialize} {
		if _, ok := exports[name]; !ok {
			return fmt.Errorf("not a Junction connector module: no export %q (build it with `junction plugin build`, which uses -buildmode=c-shared and pluginsdk/serve)", name)
		}
	}
	if _, ok := m.cm.ExportedMemories()[abi.ExportMemory]; !ok {
		return errors.New("not a Junction connector module: no exported memory")
	}
	for _, f := range m.cm.ImportedFunctions() {
		mod, name, _ := f.Import()
		switch {
		case mod == wasi_snapshot_preview1.ModuleName:
		case mod == abi.HostModule && hostFunctionNames[name]:
		default:
			return fmt.Errorf("imports %s.%s, which this host does not provide (was it built against a newer pluginsdk?)", mod, name)
		}
	}
	return nil
}

func (m *Module) readSpec(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.r.opts.CallTimeout)
	defer cancel()
	in, err := m.instantiate(ctx, nil)
	if err != nil {
		return fmt.Errorf("wasm module: %w", err)
	}
	defer in.close(context.WithoutCancel(ctx))
	var st [1]uint64
	if err := in.run(ctx, in.fnABI, st[:]); err != nil {
		return fmt.Errorf("wasm module: call %s: %w", abi.ExportABI, err)
	}
	if v := api.DecodeI32(st[0]); v != abi.Version {
		return fmt.Errorf("wasm module: declares ABI %d, this host supports ABI %d (rebuild the plugin against this Junction's pluginsdk)", v, abi.Version)
	}
	out, err := in.call(ctx, abi.RoleSpec, nil)
	if err != nil {
		return fmt.Errorf("wasm module: call spec: %w", err)
	}
	if out[0] != abi.StatusOK {
		d := abi.NewDecoder(out[1:])
		return fmt.Errorf("wasm module: call spec: %w", abi.GetError(d))
	}
	var spec pluginsdk.Spec
	if err := json.Unmarshal(out[1:], &spec); err != nil {
		return fmt.Errorf("wasm module: decode spec: %w", err)
	}
	switch {
	case spec.Name == "" || spec.Version == "":
		return fmt.Errorf("wasm module: spec has no name or version (%q@%q)", spec.Name, spec.Version)
	case spec.ABI != pluginsdk.ABIVersion:
		return fmt.Errorf("wasm connector %s@%s: spec declares abi %d, this host supports abi %d", spec.Name, spec.Version, spec.ABI, pluginsdk.ABIVersion)
	}
	m.spec = spec
	m.label = spec.Name + "@" + spec.Version
	return nil
}

// Spec is the connector's Spec as the module reported it.
func (m *Module) Spec() pluginsdk.Spec { return m.spec }

// Close releases the compiled code. Connectors of the module must be closed
// first.
func (m *Module) Close(ctx context.Context) error { return m.cm.Close(ctx) }
