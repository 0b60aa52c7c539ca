package wasmhost

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math/bits"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// instance is one instantiated module. It serves one call at a time (a Go
// guest is single-threaded); the pool hands it to one caller at a time, so
// its fields need no lock.
type instance struct {
	m     *Module
	owner *Connector // nil for the throwaway spec instance
	mod   api.Module
	mem   api.Memory

	fnABI, fnBuffer, fnHandle api.Function

	// interrupted is set by the yield host function when it stops a run
	// whose context ended (on the calling goroutine: no lock needed).
	interrupted bool

	bufPtr, bufCap uint32      // the guest's request buffer
	enc            abi.Encoder // request scratch, reused
	stack          [2]uint64
	gen            uint64 // Context generation this instance was configured with; 0 = none

	// Host-function state, touched only while this instance is in a call.
	pending []byte          // a result too large for the guest's buffer, until take
	paths   []*fields.Paths // json_paths handles (handle = index+1)
	spans   []fields.Span
	scratch []byte
	stderr  *guestOutput
}

// instKey finds the instance of the current call inside host functions.
type instKey struct{}

// callCtx carries the instance through wazero to host functions without a
// second context allocation.
type callCtx struct {
	context.Context
	in *instance
}

func (c callCtx) Value(k any) any {
	if _, ok := k.(instKey); ok {
		return c.in
	}
	return c.Context.Value(k)
}

func instanceFrom(ctx context.Context) *instance {
	in, _ := ctx.Value(instKey{}).(*instance)
	return in
}

// instantiate creates and initialises an instance: no filesystem, no
// arguments, no environment but GOGC and GOMEMLIMIT (guestGCEnv); stdout and
// stderr go to the logger; real clocks and a cryptographic random source.
func (m *Module) instantiate(ctx context.Context, owner *Connector) (*instance, error) {
	in := &instance{m: m, owner: owner}
	in.stderr = &guestOutput{in: in, stream: "stderr", level: slog.LevelWarn, keepTail: true}
	stdout := &guestOutput{in: in, stream: "stdout", level: slog.LevelInfo}
	// _initialize is run below, under the interrupt, not as a start
	// function: a guest whose init loops forever must be stoppable too.
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions().
		WithStdout(stdout).
		WithStderr(in.stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader)
	for _, kv := range m.env {
		cfg = cfg.WithEnv(kv[0], kv[1])
	}
	mod, err := m.r.rt.InstantiateModule(withGuestMemory(callCtx{ctx, in}), m.cm, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w%s", err, in.stderr.tailNote())
	}
	in.mod = mod
	in.mem = mod.Memory()
	in.fnABI = mod.ExportedFunction(abi.ExportABI)
	in.fnBuffer = mod.ExportedFunction(abi.ExportBuffer)
	in.fnHandle = mod.ExportedFunction(abi.ExportHandle)
	if err := in.run(ctx, mod.ExportedFunction(abi.ExportInitialize), nil); err != nil {
		in.close(context.WithoutCancel(ctx))
		if in.interrupted {
			cause := ctx.Err()
			if cause == nil { // the deadline passed before its timer fired
				cause = context.DeadlineExceeded
			}
			return nil, fmt.Errorf("initialize: %w", cause)
		}
		return nil, fmt.Errorf("initialize: %w%s", err, in.stderr.tailNote())
	}
	return in, nil
}

// run calls fn; the yield host function stops it if ctx ends first (see
// instrument.go), setting in.interrupted.
func (in *instance) run(ctx context.Context, fn api.Function, stack []uint64) error {
	in.interrupted = false
	if instanceFrom(ctx) != in {
		ctx = callCtx{ctx, in}
	}
	return fn.CallWithStack(ctx, stack)
}

func (in *instance) close(ctx context.Context) {
	if in.mod != nil {
		_ = in.mod.Close(ctx)
	}
}

// call sends one request and returns a host-owned copy of the response
// ([status][body]). ctx must carry the call's deadline. Any error means the
// instance is unusable: the caller discards it.
func (in *instance) call(ctx context.Context, role int32, body func(*abi.Encoder)) ([]byte, error) {
	ctx = callCtx{ctx, in}
	in.enc.Reset()
	var deadline int64
	if d, ok := ctx.Deadline(); ok {
		deadline = d.UnixNano()
	}
	in.enc.I64(deadline)
	if body != nil {
		body(&in.enc)
	}
	n := uint32(len(in.enc.B))
	if n > in.bufCap {
		want := max(n, 16<<10)
		want = 1 << (32 - bits.LeadingZeros32(want-1)) // next power of two: fewer regrowths
		in.stack[0] = api.EncodeI32(int32(want))
		if err := in.run(ctx, in.fnBuffer, in.stack[:]); err != nil {
			return nil, err
		}
		in.bufPtr, in.bufCap = api.DecodeU32(in.stack[0]), want
	}
	if !in.mem.Write(in.bufPtr, in.enc.B) {
		return nil, errors.New("request buffer outside guest memory")
	}
	in.stack[0], in.stack[1] = api.EncodeI32(role), api.EncodeU32(n)
	if err := in.run(ctx, in.fnHandle, in.stack[:]); err != nil {
		return nil, err
	}
	ptr, size := uint32(in.stack[0]>>32), uint32(in.stack[0])
	view, ok := in.mem.Read(ptr, size)
	if !ok || size == 0 {
		return nil, fmt.Errorf("response [%d, +%d) outside guest memory", ptr, size)
	}
	return bytes.Clone(view), nil
}

// failure turns a failed call into the typed error callers see. Timeouts and
// cancellations are retryable; traps and guest exits are not.
func (in *instance) failure(ctx context.Context, role int32, limit time.Duration, err error) *pluginsdk.Error {
	prefix := fmt.Sprintf("wasm connector %s: call %s: ", in.m.label, abi.RoleName(role))
	if in.interrupted {
		if errors.Is(ctx.Err(), context.Canceled) {
			return &pluginsdk.Error{Code: "canceled", Retryable: true, Message: prefix + "canceled: instance discarded"}
		}
		return &pluginsdk.Error{Code: "timeout", Retryable: true,
			Message: prefix + "deadline exceeded after " + limit.String() + ": instance discarded"}
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return &pluginsdk.Error{Code: "exit",
			Message: fmt.Sprintf("%sguest exited with code %d%s: instance discarded", prefix, exit.ExitCode(), in.stderr.tailNote())}
	}
	if strings.Contains(in.stderr.fatalLine(), "out of memory") {
		// The Go runtime could not grow memory past the limit and aborted.
		return &pluginsdk.Error{Code: "memory",
			Message: fmt.Sprintf("%sout of memory (limit %d MiB)%s: instance discarded", prefix, in.m.r.opts.MemoryLimitPages/16, in.stderr.tailNote())}
	}
	msg, _, _ := strings.Cut(err.Error(), "\n") // drop wazero's stack trace
	return &pluginsdk.Error{Code: "trap",
		Message: fmt.Sprintf("%strap: %s%s: instance discarded", prefix, msg, in.stderr.tailNote())}
}

// logger is where this instance's guest logs and output go: the connection's
// logger once configured, else the runtime's.
func (in *instance) logger() *slog.Logger {
	if in.owner != nil {
		if l := in.owner.logger(); l != nil {
			return l
		}
	}
	return in.m.r.log.With("connector", in.m.label)
}

// guestOutput forwards a guest's stdout or stderr to the logger line by line,
// and keeps the tail of stderr: a Go guest prints its fatal error ("out of
// memory", an unrecovered panic) there just before it exits.
type guestOutput struct {
	in       *instance
	stream   string
	level    slog.Level
	keepTail bool

	mu      sync.Mutex
	partial []byte
	fatal   string // the first "fatal error:" or "panic:" line
}

func (w *guestOutput) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(w.partial[:i])); line != "" {
			if w.keepTail && w.fatal == "" && (strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "panic:")) {
				w.fatal = line
			}
			w.in.logger().Log(context.Background(), w.level, "guest "+w.stream, "line", line)
		}
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) > 4096 { // a guest writing without newlines
		w.in.logger().Log(context.Background(), w.level, "guest "+w.stream, "line", string(w.partial))
		w.partial = w.partial[:0]
	}
	return len(p), nil
}

// tailNote is ` (stderr: "fatal error: …")` when the guest printed a fatal
// error or an unrecovered panic, or "".
func (w *guestOutput) tailNote() string {
	if f := w.fatalLine(); f != "" {
		return fmt.Sprintf(" (stderr: %q)", f)
	}
	return ""
}

func (w *guestOutput) fatalLine() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fatal
}
