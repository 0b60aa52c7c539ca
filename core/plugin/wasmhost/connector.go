package wasmhost

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// PoolOptions configures the instance pool behind a Connector.
type PoolOptions struct {
	// Size is the most instances, and so concurrent calls (default 4). More
	// calls wait for a free instance, as long as their context allows.
	Size int
	// CallTimeout bounds each call (default: the runtime's CallTimeout).
	CallTimeout time.Duration
}

// Connector is one connection's view of a module: it implements
// pluginsdk.Connector and every role interface, forwarding calls to pooled
// instances. A role the module's Spec lacks fails with a permanent error.
type Connector struct {
	m       *Module
	timeout time.Duration
	sem     chan struct{} // one token per instance in use
	done    chan struct{} // closed by Close

	mu      sync.Mutex
	idle    []*instance
	pc      *pluginsdk.Context
	pcJSON  []byte
	log     *slog.Logger
	level   slog.Level // least level the connection's logger records
	gen     uint64
	closed  bool
	created int
	dropped int
}

var (
	_ pluginsdk.Connector        = (*Connector)(nil)
	_ pluginsdk.Receiver         = (*Connector)(nil)
	_ pluginsdk.Fetcher          = (*Connector)(nil)
	_ pluginsdk.MetadataProvider = (*Connector)(nil)
	_ pluginsdk.Performer        = (*Connector)(nil)
)

// NewConnector returns an unconfigured connector of the module. Instances
// are created on demand, up to o.Size.
func (m *Module) NewConnector(o PoolOptions) *Connector {
	if o.Size <= 0 {
		o.Size = DefaultPoolSize
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = m.r.opts.CallTimeout
	}
	return &Connector{m: m, timeout: o.CallTimeout, sem: make(chan struct{}, o.Size), done: make(chan struct{})}
}

// Spec returns the module's Spec.
func (c *Connector) Spec() pluginsdk.Spec { return c.m.spec }

// Configure keeps pc for every instance of the pool — each is configured with
// it when it first serves a call — and configures one instance now, so a bad
// config fails here with the connector's own error. The host functions of
// every instance use pc's HTTP, KV and Log.
func (c *Connector) Configure(ctx context.Context, pc *pluginsdk.Context) error {
	if pc == nil {
		pc = &pluginsdk.Context{}
	}
	raw, err := json.Marshal(pc)
	if err != nil {
		return fmt.Errorf("wasm connector %s: encode context: %w", c.m.label, err)
	}
	log := pc.Log
	if log == nil {
		log = c.m.r.log
	}
	log = log.With("connector", c.m.label)
	c.mu.Lock()
	c.pc, c.pcJSON, c.log, c.level = pc, raw, log, lowestLevel(ctx, log)
	c.gen++
	c.mu.Unlock()
	in, err := c.acquire(ctx, abi.RoleConfigure)
	if err != nil {
		return err
	}
	c.release(in, false)
	return nil
}

func lowestLevel(ctx context.Context, l *slog.Logger) slog.Level {
	for _, lv := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		if l.Enabled(ctx, lv) {
			return lv
		}
	}
	return slog.LevelError
}

func (c *Connector) context() *pluginsdk.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pc
}

func (c *Connector) logger() *slog.Logger {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.log
}

// acquire takes an instance, creating or (re)configuring it as needed.
func (c *Connector) acquire(ctx context.Context, role int32) (*instance, error) {
	select {
	case c.sem <- struct{}{}:
	case <-c.done:
		return nil, pluginsdk.Errorf("wasm connector %s: closed", c.m.label)
	case <-ctx.Done():
		return nil, c.ctxError(ctx, role, "waiting for a free instance")
	}
	c.mu.Lock()
	if c.closed || c.gen == 0 {
		closed := c.closed
		c.mu.Unlock()
		<-c.sem
		if closed {
			return nil, pluginsdk.Errorf("wasm connector %s: closed", c.m.label)
		}
		return nil, pluginsdk.Errorf("wasm connector %s: call %s before Configure", c.m.label, abi.RoleName(role))
	}
	var in *instance
	if n := len(c.idle); n > 0 {
		in, c.idle = c.idle[n-1], c.idle[:n-1]
	}
	gen, raw, level := c.gen, c.pcJSON, c.level
	if in == nil {
		c.created++
	}
	c.mu.Unlock()
	if in == nil {
		ictx, cancel := context.WithTimeout(ctx, c.timeout)
		var err error
		in, err = c.m.instantiate(ictx, c)
		cancel()
		if err != nil {
			c.mu.Lock()
			c.dropped++
			c.mu.Unlock()
			<-c.sem
			return nil, &pluginsdk.Error{Code: "instantiate", Retryable: true,
				Message: fmt.Sprintf("wasm connector %s: %v", c.m.label, err)}
		}
	}
	if in.gen != gen {
		_, err := c.invoke(ctx, in, abi.RoleConfigure, func(e *abi.Encoder) {
			e.I64(int64(level))
			e.B = append(e.B, raw...)
		})
		if err != nil {
			return nil, err // invoke released the instance
		}
		in.gen = gen
	}
	return in, nil
}

// release returns an instance to the pool, or closes it.
func (c *Connector) release(in *instance, discard bool) {
	c.mu.Lock()
	if discard || c.closed || in.mod.IsClosed() {
		if !c.closed {
			c.dropped++
		}
		c.mu.Unlock()
		in.close(context.Background())
	} else {
		c.idle = append(c.idle, in)
		c.mu.Unlock()
	}
	<-c.sem
}

func (c *Connector) ctxError(ctx context.Context, role int32, during string) *pluginsdk.Error {
	return &pluginsdk.Error{Code: "canceled", Retryable: true,
		Message: fmt.Sprintf("wasm connector %s: call %s: %s: %v", c.m.label, abi.RoleName(role), during, ctx.Err())}
}

// do runs one role call on a pooled instance and returns the response body
// of a successful call; a guest error comes back as the guest's *Error.
func (c *Connector) do(ctx context.Context, role int32, body func(*abi.Encoder)) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.ctxError(ctx, role, "before the call")
	}
	in, err := c.acquire(ctx, role)
	if err != nil {
		return nil, err
	}
	out, err := c.invoke(ctx, in, role, body)
	if err != nil {
		return nil, err
	}
	c.release(in, false)
	return out, nil
}

// invoke calls the guest under the call deadline. On any error it releases
// (and, unless the guest failed cleanly, discards) the instance itself.
func (c *Connector) invoke(ctx context.Context, in *instance, role int32, body func(*abi.Encoder)) ([]byte, error) {
	limit := c.timeout
	if d, ok := ctx.Deadline(); ok && time.Until(d) < limit {
		limit = time.Until(d).Round(time.Millisecond)
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	out, err := in.call(cctx, role, body)
	cancel()
	if err != nil {
		c.release(in, true)
		return nil, in.failure(ctx, role, limit, err)
	}
	if out[0] == abi.StatusError {
		gerr := abi.GetError(abi.NewDecoder(out[1:]))
		// A recovered panic may have left the connector half-updated.
		c.release(in, gerr.Code == "panic")
		return nil, gerr
	}
	return out[1:], nil
}

func (c *Connector) missing(role string) error {
	return pluginsdk.Errorf("connector %s does not implement %s", c.m.spec.Name, role)
}

func malformed(label, role string, err error) error {
	return &pluginsdk.Error{Code: "abi", Message: fmt.Sprintf("wasm connector %s: call %s: malformed response: %v", label, role, err)}
}

// Receive implements pluginsdk.Receiver.
func (c *Connector) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if !c.m.spec.HasRole(pluginsdk.RoleReceive) {
		return nil, c.missing(pluginsdk.RoleReceive)
	}
	out, err := c.do(ctx, abi.RoleReceive, func(e *abi.Encoder) { abi.PutHTTPRequest(e, req) })
	if err != nil {
		return nil, err
	}
	var d abi.Decoder
	d.Reset(out)
	res := &pluginsdk.ReceiveResult{}
	if abi.GetReceiveResult(&d, res); d.Err() != nil {
		return nil, malformed(c.m.label, pluginsdk.RoleReceive, d.Err())
	}
	return res, nil
}

// Fetch implements pluginsdk.Fetcher.
func (c *Connector) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	if !c.m.spec.HasRole(pluginsdk.RoleFetch) {
		return nil, c.missing(pluginsdk.RoleFetch)
	}
	out, err := c.do(ctx, abi.RoleFetch, func(e *abi.Encoder) { abi.PutFetchRequest(e, req) })
	if err != nil {
		return nil, err
	}
	var d abi.Decoder
	d.Reset(out)
	res := &pluginsdk.FetchResult{}
	if abi.GetFetchResult(&d, res); d.Err() != nil {
		return nil, malformed(c.m.label, pluginsdk.RoleFetch, d.Err())
	}
	return res, nil
}

// Metadata implements pluginsdk.MetadataProvider.
func (c *Connector) Metadata(ctx context.Context) (*pluginsdk.MetadataResult, error) {
	if !c.m.spec.HasRole(pluginsdk.RoleMetadata) {
		return nil, c.missing(pluginsdk.RoleMetadata)
	}
	out, err := c.do(ctx, abi.RoleMetadata, nil)
	if err != nil {
		return nil, err
	}
	res := &pluginsdk.MetadataResult{}
	if err := json.Unmarshal(out, res); err != nil {
		return nil, malformed(c.m.label, pluginsdk.RoleMetadata, err)
	}
	return res, nil
}

// Perform implements pluginsdk.Performer.
func (c *Connector) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if !c.m.spec.HasRole(pluginsdk.RolePerform) {
		return nil, c.missing(pluginsdk.RolePerform)
	}
	out, err := c.do(ctx, abi.RolePerform, func(e *abi.Encoder) { abi.PutPerformRequest(e, req) })
	if err != nil {
		return nil, err
	}
	var d abi.Decoder
	d.Reset(out)
	res := &pluginsdk.PerformResult{}
	if abi.GetPerformResult(&d, res); d.Err() != nil {
		return nil, malformed(c.m.label, pluginsdk.RolePerform, d.Err())
	}
	return res, nil
}

// PoolStats describes a connector's instance pool.
type PoolStats struct {
	Size      int // most instances
	Idle      int // instances ready for a call
	InUse     int // instances serving a call
	Created   int // instances created so far
	Discarded int // instances closed after a trap, timeout or failed start
}

// Stats reports the pool's state.
func (c *Connector) Stats() PoolStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return PoolStats{Size: cap(c.sem), Idle: len(c.idle), InUse: len(c.sem), Created: c.created, Discarded: c.dropped}
}

// Close waits for calls in flight (as long as ctx allows), then closes every
// instance. Later calls fail; closing again does nothing.
func (c *Connector) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	c.mu.Unlock()
	var err error
	for i := 0; i < cap(c.sem); i++ {
		select {
		case c.sem <- struct{}{}:
			continue
		case <-ctx.Done():
			err = fmt.Errorf("wasm connector %s: close: %w", c.m.label, ctx.Err())
		}
		break
	}
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	for _, in := range idle {
		in.close(context.WithoutCancel(ctx))
	}
	return err
}
