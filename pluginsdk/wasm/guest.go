//go:build wasip1

package wasm

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// The guest is single-threaded and the host never enters it twice at once, so
// this state needs no locking. It lives for the instance's lifetime.
var g struct {
	conn pluginsdk.Connector
	// The roles conn implements, asserted once: a type assertion to an
	// interface is a table lookup per call in a Go guest.
	receiver pluginsdk.Receiver
	flat     bool // conn implements pluginsdk.FlatHeaders
	// result is what pluginsdk.NewReceiveResult hands out under Wasm, emptied
	// per call (see callContext.ReceiveResult).
	result pluginsdk.ReceiveResult
	// req is the buffer the host writes requests into (junction_buffer).
	req []byte
	// resp holds the last response until the next junction_handle call, which
	// keeps it reachable for the host to copy.
	resp abi.Encoder
	// minLevel is the least log level the connection's logger records.
	minLevel slog.Level
	// ctx is the context of the call in progress.
	ctx callContext
}

// callContext carries the call's deadline into the connector without the
// timer context.WithDeadline would start: allocations and timers are dear in
// a Go guest, and the host enforces the deadline anyway by stopping the
// instance. Err reports expiry from the clock; Done is closed if the deadline
// has passed when it is asked for.
type callContext struct {
	deadline time.Time
	done     chan struct{}
	// resultGiven is set once ReceiveResult has handed out g.result in this
	// call; a second result must be a distinct one.
	resultGiven bool
}

// ReceiveResult implements pluginsdk.ReceiveResultSource: the glue encodes
// the result Receive returns before the call ends (exportHandle), so the next
// call may empty and refill the same one.
func (c *callContext) ReceiveResult(n int) *pluginsdk.ReceiveResult {
	if c.resultGiven {
		return nil
	}
	c.resultGiven = true
	ev := g.result.Events[:0]
	if cap(ev) < n {
		ev = make([]pluginsdk.Event, 0, n)
	}
	g.result = pluginsdk.ReceiveResult{Events: ev, Rejected: g.result.Rejected[:0]}
	return &g.result
}

// releaseResult drops what g.result refers to once it has been encoded:
// payloads alias the request they came from, which would otherwise stay
// reachable until the next call; and the slices of an unusually large batch
// are not kept for the instance's lifetime.
func releaseResult() {
	clear(g.result.Events[:cap(g.result.Events)])
	clear(g.result.Rejected[:cap(g.result.Rejected)])
	if cap(g.result.Events) > 1024 {
		g.result.Events = nil
	}
	if cap(g.result.Rejected) > 1024 {
		g.result.Rejected = nil
	}
	g.result.Response = pluginsdk.HTTPResponse{}
}

func (c *callContext) Deadline() (time.Time, bool) { return c.deadline, !c.deadline.IsZero() }

func (c *callContext) Done() <-chan struct{} {
	if c.done == nil {
		c.done = make(chan struct{})
		if c.Err() != nil {
			close(c.done)
		}
	}
	return c.done
}

func (c *callContext) Err() error {
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *callContext) Value(any) any { return nil }

//go:wasmimport junction yield
func hostYield()

//go:wasmexport junction_abi
func exportABI() int32 {
	// Calling yield here keeps its import in every module: the host's loop
	// checks call it (see pluginsdk/wasm/abi).
	hostYield()
	return abi.Version
}

//go:wasmexport junction_buffer
func exportBuffer(size int32) uint32 {
	if int(size) > cap(g.req) {
		g.req = make([]byte, max(int(size), 16<<10))
	}
	g.req = g.req[:cap(g.req)]
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(g.req))))
}

//go:wasmexport junction_handle
func exportHandle(role int32, n int32) uint64 {
	if cap(g.resp.B) > 4<<20 {
		g.resp.B = nil // do not pin one huge response's memory forever
	}
	g.resp.Reset()
	g.resp.U8(abi.StatusOK)
	if err := dispatch(role, n); err != nil {
		g.resp.Reset()
		g.resp.U8(abi.StatusError)
		abi.PutError(&g.resp, pluginsdk.AsError(err))
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(g.resp.B)))
	return uint64(p)<<32 | uint64(len(g.resp.B))
}

func dispatch(role, n int32) (err error) {
	defer func() {
		if r := recover(); r != nil {
			// A recovered panic fails only this call; the host also discards
			// the instance, since the connector's state may be half-updated.
			stack := debug.Stack()
			if len(stack) > 4096 {
				stack = stack[:4096]
			}
			guestLog(slog.LevelError, "connector panicked", "panic", fmt.Sprint(r), "stack", string(stack))
			err = &pluginsdk.Error{Code: "panic", Message: fmt.Sprintf("connector panicked: %v", r)}
		}
	}()
	if n < 8 || int(n) > len(g.req) {
		return &pluginsdk.Error{Code: "abi", Message: fmt.Sprintf("malformed request of %d bytes", n)}
	}
	// One owned copy per call: decoded strings and byte slices alias it, so a
	// connector may keep them without the next request overwriting them.
	own := make([]byte, n)
	copy(own, g.req[:n])
	var d abi.Decoder
	d.Reset(own)
	g.ctx = callContext{}
	if deadline := d.I64(); deadline != 0 {
		g.ctx.deadline = time.Unix(0, deadline)
	}
	ctx := &g.ctx
	c, err := connector()
	if err != nil {
		return err
	}
	switch role {
	case abi.RoleSpec:
		return writeJSON(c.Spec())
	case abi.RoleConfigure:
		return configure(ctx, c, &d)
	case abi.RoleReceive:
		r := g.receiver
		if r == nil {
			return missing(c, "receive")
		}
		var req *pluginsdk.HTTPRequest
		if g.flat {
			fr := new(abi.FlatHTTPRequest)
			abi.GetHTTPRequestFlat(&d, fr)
			req = &fr.HTTPRequest
		} else {
			req = new(pluginsdk.HTTPRequest)
			abi.GetHTTPRequest(&d, req)
		}
		if d.Err() != nil {
			return malformed(d.Err())
		}
		res, err := r.Receive(ctx, req)
		if err == nil {
			if res == nil {
				res = &pluginsdk.ReceiveResult{}
			}
			abi.PutReceiveResult(&g.resp, res)
		}
		if g.ctx.resultGiven {
			releaseResult() // encoded, or not returned at all
		}
		return err
	case abi.RoleFetch:
		f, ok := c.(pluginsdk.Fetcher)
		if !ok {
			return missing(c, "fetch")
		}
		var req pluginsdk.FetchRequest
		if abi.GetFetchRequest(&d, &req); d.Err() != nil {
			return malformed(d.Err())
		}
		res, err := f.Fetch(ctx, &req)
		if err != nil {
			return err
		}
		if res == nil {
			res = &pluginsdk.FetchResult{}
		}
		abi.PutFetchResult(&g.resp, res)
	case abi.RoleMetadata:
		m, ok := c.(pluginsdk.MetadataProvider)
		if !ok {
			return missing(c, "metadata")
		}
		res, err := m.Metadata(ctx)
		if err != nil {
			return err
		}
		if res == nil {
			res = &pluginsdk.MetadataResult{}
		}
		return writeJSON(res)
	case abi.RolePerform:
		p, ok := c.(pluginsdk.Performer)
		if !ok {
			return missing(c, "perform")
		}
		var req pluginsdk.PerformRequest
		if abi.GetPerformRequest(&d, &req); d.Err() != nil {
			return malformed(d.Err())
		}
		res, err := p.Perform(ctx, &req)
		if err != nil {
			return err
		}
		if res == nil {
			res = &pluginsdk.PerformResult{}
		}
		abi.PutPerformResult(&g.resp, res)
	default:
		return &pluginsdk.Error{Code: "abi", Message: fmt.Sprintf("unknown role %d", role)}
	}
	return nil
}

func connector() (pluginsdk.Connector, error) {
	if g.conn == nil {
		f := pluginsdk.Registered()
		if f == nil {
			return nil, &pluginsdk.Error{Code: "abi", Message: "no connector registered: call pluginsdk.Register from an init function"}
		}
		g.conn = f()
		g.receiver, _ = g.conn.(pluginsdk.Receiver)
		_, g.flat = g.conn.(pluginsdk.FlatHeaders)
	}
	return g.conn, nil
}

// configure decodes [min log level int64][JSON pluginsdk.Context].
func configure(ctx context.Context, c pluginsdk.Connector, d *abi.Decoder) error {
	g.minLevel = slog.Level(d.I64())
	if d.Err() != nil {
		return malformed(d.Err())
	}
	pc := &pluginsdk.Context{}
	if err := json.Unmarshal(d.Rest(), pc); err != nil {
		return malformed(err)
	}
	pc.HTTP = hostHTTP{}
	pc.KV = hostKV{}
	pc.Log = slog.New(&logHandler{})
	return c.Configure(ctx, pc)
}

func writeJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %T: %w", v, err)
	}
	g.resp.B = append(g.resp.B, b...)
	return nil
}

func missing(c pluginsdk.Connector, role string) error {
	return pluginsdk.Errorf("connector %s does not implement %s", c.Spec().Name, role)
}

func malformed(err error) error {
	return &pluginsdk.Error{Code: "abi", Message: "malformed request: " + err.Error()}
}
