package goplugin

import (
	"context"
	"errors"
	"fmt"
	"net/rpc"
	"sync"
	"sync/atomic"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// CallHeader travels with every call in both directions: the ID names the
// call for Cancel, the deadline is the caller's, so the callee gives up when
// the caller does.
type CallHeader struct {
	ID       uint64
	Deadline time.Time // zero: none
}

// Ack is the reply of calls that return nothing but an error.
type Ack struct {
	Err *pluginsdk.Error
}

// CancelArgs names a call whose caller has stopped waiting.
type CancelArgs struct {
	ID uint64
}

// Connector calls (host to plugin), served as "Plugin.<Method>".
type (
	EndpointArgs struct{ Call CallHeader }

	SpecArgs  struct{ Call CallHeader }
	SpecReply struct {
		Spec pluginsdk.Spec
		Err  *pluginsdk.Error
	}

	// ConfigureArgs is pluginsdk.Context without its host services, which
	// stay in the host and are reached through the broker stream HostID.
	ConfigureArgs struct {
		Call       CallHeader
		Connection string
		Config     []byte
		Auth       pluginsdk.Auth
		Secrets    map[string]string
		BaseURL    string
		// HostID names the connection serving the host services: a broker
		// stream, or with HostDirect a direct connection; 0 when the host
		// grants none.
		HostID         uint32
		HostDirect     bool
		HasHTTP, HasKV bool
		HasLog         bool
		LogLevel       int // the lowest slog level the host logger records
	}

	ReceiveArgs struct {
		Call CallHeader
		Req  pluginsdk.HTTPRequest
	}
	ReceiveReply struct {
		Result *pluginsdk.ReceiveResult
		Err    *pluginsdk.Error
	}

	FetchArgs struct {
		Call CallHeader
		Req  pluginsdk.FetchRequest
	}
	FetchReply struct {
		Result *pluginsdk.FetchResult
		Err    *pluginsdk.Error
	}

	MetadataArgs  struct{ Call CallHeader }
	MetadataReply struct {
		Result *pluginsdk.MetadataResult
		Err    *pluginsdk.Error
	}

	PerformArgs struct {
		Call CallHeader
		Req  pluginsdk.PerformRequest
	}
	PerformReply struct {
		Result *pluginsdk.PerformResult
		Err    *pluginsdk.Error
	}
)

// Host service calls (plugin to host), served as "Plugin.<Method>" on the
// broker stream named in ConfigureArgs.HostID.
type (
	HTTPArgs struct {
		Call CallHeader
		Req  pluginsdk.HTTPRequest
	}
	HTTPReply struct {
		Resp *pluginsdk.HTTPResponse
		Err  *pluginsdk.Error
	}

	KVGetArgs struct {
		Call CallHeader
		Key  string
	}
	KVGetReply struct {
		Value []byte
		Found bool
		Err   *pluginsdk.Error
	}
	KVSetArgs struct {
		Call  CallHeader
		Key   string
		Value []byte
		TTL   time.Duration
	}
	KVDeleteArgs struct {
		Call CallHeader
		Key  string
	}

	// LogArgs is one slog record; attributes are flattened (groups become
	// dotted keys) because slog.Value does not cross gob.
	LogArgs struct {
		Time    time.Time
		Level   int
		Message string
		Attrs   []LogAttr
	}
)

// LogAttr is one flattened log attribute. Kind selects the field that holds
// the value, so numbers, booleans, durations and times keep their type.
type LogAttr struct {
	Key   string
	Kind  int // slog.Kind
	Str   string
	Int   int64
	Uint  uint64
	Float float64
	Bool  bool
	Time  time.Time
}

// TransportError is a call that failed on the way rather than in the
// callee: the connection broke (the process died) or the peer does not know
// the method. The host treats the first kind as a crash.
type TransportError struct {
	Method string
	Err    error
}

func (e *TransportError) Error() string { return e.Method + ": " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// Broken reports whether the connection itself is gone (as opposed to the
// peer refusing the call).
func (e *TransportError) Broken() bool {
	var se rpc.ServerError
	return !errors.As(e.Err, &se)
}

// caller makes calls with a context over one rpc.Client.
type caller struct {
	rpc  *rpc.Client
	next atomic.Uint64
}

// call sends method and waits for its reply or ctx. When ctx ends first it
// tells the callee to cancel (without waiting) and returns ctx's error.
func (c *caller) call(ctx context.Context, method string, hdr *CallHeader, args, reply any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	hdr.ID = c.next.Add(1)
	if d, ok := ctx.Deadline(); ok {
		hdr.Deadline = d
	}
	pending := c.rpc.Go(method, args, reply, make(chan *rpc.Call, 1))
	select {
	case done := <-pending.Done:
		if done.Error != nil {
			return &TransportError{Method: method, Err: done.Error}
		}
		return nil
	case <-ctx.Done():
		// Fire and forget: the buffered channel takes the reply, if any.
		c.rpc.Go("Plugin.Cancel", &CancelArgs{ID: hdr.ID}, new(Ack), make(chan *rpc.Call, 1))
		return ctx.Err()
	}
}

// calls tracks the calls a server is running, so Cancel can reach them.
type calls struct {
	base context.Context
	mu   sync.Mutex
	live map[uint64]context.CancelFunc
}

func newCalls(base context.Context) *calls {
	return &calls{base: base, live: map[uint64]context.CancelFunc{}}
}

// begin returns the context a call runs under, and the function that ends
// it.
func (t *calls) begin(h CallHeader) (context.Context, func()) {
	ctx, cancel := context.WithCancel(t.base)
	if !h.Deadline.IsZero() {
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadline(ctx, h.Deadline)
		inner := cancel
		cancel = func() { cancelDeadline(); inner() }
	}
	t.mu.Lock()
	t.live[h.ID] = cancel
	t.mu.Unlock()
	return ctx, func() {
		t.mu.Lock()
		delete(t.live, h.ID)
		t.mu.Unlock()
		cancel()
	}
}

func (t *calls) cancel(id uint64) {
	t.mu.Lock()
	cancel := t.live[id]
	t.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// recovered turns a panic in a handler into a permanent error of that call,
// so one bad event does not take down the process (and every call in it).
func recovered(r any) *pluginsdk.Error {
	return &pluginsdk.Error{Code: "panic", Message: fmt.Sprintf("connector panicked: %v", r)}
}
