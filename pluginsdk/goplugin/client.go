package goplugin

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/rpc"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"
	"github.com/junctionhub/junction/pluginsdk"
)

// Client is the host's handle on a dispensed connector: one method per
// connector call, each honouring its context. Calls return a
// *pluginsdk.Error when the connector failed, a *TransportError when the
// call never completed (the process died), or ctx's error.
//
// Client is safe for concurrent use; the plugin serves calls in parallel.
type Client struct {
	broker *plugin.MuxBroker
	c      caller
	mux    *rpc.Client    // go-plugin's connection
	ep     *EndpointReply // the direct endpoint; nil when on mux only
	nextID atomic.Uint32  // direct host-service connection IDs
	connMu sync.Mutex
	conns  []net.Conn // direct host-service connections

	// Host services started by Configure run until Close.
	stop    context.Context
	stopNow context.CancelFunc
	wg      sync.WaitGroup
}

func newClient(b *plugin.MuxBroker, c *rpc.Client) *Client {
	stop, stopNow := context.WithCancel(context.Background())
	cl := &Client{broker: b, mux: c, stop: stop, stopNow: stopNow}
	cl.c.rpc = c
	return cl
}

// goDirect moves connector calls to the plugin's direct endpoint, if it
// offers one; otherwise calls stay on go-plugin's connection.
func (c *Client) goDirect() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	args := &EndpointArgs{}
	var ep EndpointReply
	if err := c.c.call(ctx, "Plugin.Endpoint", &args.Call, args, &ep); err != nil {
		return
	}
	conn, err := dialDirect(&ep, directCalls, 0)
	if err != nil {
		return
	}
	c.ep = &ep
	c.c.rpc = rpc.NewClient(conn)
}

// Direct reports whether calls use the direct path (see direct.go).
func (c *Client) Direct() bool { return c.ep != nil }

// serveHost serves hs to the plugin: on a direct connection when there is
// an endpoint, else on a broker stream. It returns the ID to send in
// ConfigureArgs.
func (c *Client) serveHost(hs *hostServer) (id uint32, direct bool) {
	if c.ep != nil {
		id := c.nextID.Add(1)
		if conn, err := dialDirect(c.ep, directHost, id); err == nil {
			srv := rpc.NewServer()
			if err := srv.RegisterName("Plugin", hs); err == nil {
				c.connMu.Lock()
				c.conns = append(c.conns, conn)
				c.connMu.Unlock()
				c.wg.Add(1)
				go func() {
					defer c.wg.Done()
					srv.ServeConn(conn) // returns when either side closes
				}()
				return id, true
			}
			_ = conn.Close()
		}
	}
	id = c.broker.NextId()
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		// Returns when the plugin closes the stream or the session ends.
		c.broker.AcceptAndServe(id, hs)
	}()
	return id, false
}

// Spec asks the plugin for its spec.
func (c *Client) Spec(ctx context.Context) (pluginsdk.Spec, error) {
	args := &SpecArgs{}
	var reply SpecReply
	if err := c.c.call(ctx, "Plugin.Spec", &args.Call, args, &reply); err != nil {
		return pluginsdk.Spec{}, err
	}
	if reply.Err != nil {
		return pluginsdk.Spec{}, reply.Err
	}
	return reply.Spec, nil
}

// Configure configures the connector. The host services in pc (HTTP, KV,
// Log) are served to the plugin until Close.
func (c *Client) Configure(ctx context.Context, pc *pluginsdk.Context) error {
	args := &ConfigureArgs{
		Connection: pc.Connection,
		Config:     pc.Config,
		Auth:       pc.Auth,
		Secrets:    pc.Secrets,
		BaseURL:    pc.BaseURL,
		HasHTTP:    pc.HTTP != nil,
		HasKV:      pc.KV != nil,
		HasLog:     pc.Log != nil,
	}
	if pc.Log != nil {
		args.LogLevel = int(lowestLevel(ctx, pc.Log))
	}
	if args.HasHTTP || args.HasKV || args.HasLog {
		args.HostID, args.HostDirect = c.serveHost(&hostServer{ctx: pc, calls: newCalls(c.stop)})
	}
	var reply Ack
	if err := c.c.call(ctx, "Plugin.Configure", &args.Call, args, &reply); err != nil {
		return err
	}
	if reply.Err != nil {
		return reply.Err
	}
	return nil
}

// Receive forwards an inbound request.
func (c *Client) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	args := &ReceiveArgs{Req: *req}
	var reply ReceiveReply
	if err := c.c.call(ctx, "Plugin.Receive", &args.Call, args, &reply); err != nil {
		return nil, err
	}
	if reply.Err != nil {
		return reply.Result, reply.Err
	}
	return reply.Result, nil
}

// Fetch asks for the batch after req.Cursor.
func (c *Client) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	args := &FetchArgs{Req: *req}
	var reply FetchReply
	if err := c.c.call(ctx, "Plugin.Fetch", &args.Call, args, &reply); err != nil {
		return nil, err
	}
	if reply.Err != nil {
		return reply.Result, reply.Err
	}
	return reply.Result, nil
}

// Metadata lists entities and fields.
func (c *Client) Metadata(ctx context.Context) (*pluginsdk.MetadataResult, error) {
	args := &MetadataArgs{}
	var reply MetadataReply
	if err := c.c.call(ctx, "Plugin.Metadata", &args.Call, args, &reply); err != nil {
		return nil, err
	}
	if reply.Err != nil {
		return reply.Result, reply.Err
	}
	return reply.Result, nil
}

// Perform carries out an action.
func (c *Client) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	args := &PerformArgs{Req: *req}
	var reply PerformReply
	if err := c.c.call(ctx, "Plugin.Perform", &args.Call, args, &reply); err != nil {
		return nil, err
	}
	if reply.Err != nil {
		return reply.Result, reply.Err
	}
	return reply.Result, nil
}

// Close cancels host-service calls still running for the plugin and closes
// the RPC connection. It does not stop the process (go-plugin's
// Client.Kill does) and waits for the host-service servers only once the
// session is gone, so call it after Kill or expect it to return while they
// drain.
func (c *Client) Close() error {
	c.stopNow()
	var errs []error
	c.connMu.Lock()
	for _, conn := range c.conns {
		if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	c.conns = nil
	c.connMu.Unlock()
	for _, r := range []*rpc.Client{c.c.rpc, c.mux} {
		if err := r.Close(); err != nil && !errors.Is(err, rpc.ErrShutdown) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Wait blocks until every host-service server started by Configure has
// returned; they return when the plugin's session ends.
func (c *Client) Wait() { c.wg.Wait() }

// lowestLevel finds the lowest level l records, so the plugin drops
// disabled records before they cross the process boundary.
func lowestLevel(ctx context.Context, l *slog.Logger) slog.Level {
	for _, lv := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn} {
		if l.Enabled(ctx, lv) {
			return lv
		}
	}
	return slog.LevelError
}

// hostServer runs in the host and serves a plugin's Context services.
type hostServer struct {
	ctx   *pluginsdk.Context
	calls *calls
}

// Cancel cancels a host-service call whose plugin-side caller gave up.
func (h *hostServer) Cancel(args *CancelArgs, reply *Ack) error {
	h.calls.cancel(args.ID)
	return nil
}

func (h *hostServer) HTTP(args *HTTPArgs, reply *HTTPReply) error {
	if h.ctx.HTTP == nil {
		reply.Err = pluginsdk.Errorf("host service http not granted")
		return nil
	}
	ctx, done := h.calls.begin(args.Call)
	defer done()
	resp, err := h.ctx.HTTP.Do(ctx, &args.Req)
	reply.Resp, reply.Err = resp, pluginsdk.AsError(err)
	return nil
}

func (h *hostServer) KVGet(args *KVGetArgs, reply *KVGetReply) error {
	if h.ctx.KV == nil {
		reply.Err = pluginsdk.Errorf("host service kv not granted")
		return nil
	}
	ctx, done := h.calls.begin(args.Call)
	defer done()
	v, found, err := h.ctx.KV.Get(ctx, args.Key)
	reply.Value, reply.Found, reply.Err = v, found, pluginsdk.AsError(err)
	return nil
}

func (h *hostServer) KVSet(args *KVSetArgs, reply *Ack) error {
	if h.ctx.KV == nil {
		reply.Err = pluginsdk.Errorf("host service kv not granted")
		return nil
	}
	ctx, done := h.calls.begin(args.Call)
	defer done()
	reply.Err = pluginsdk.AsError(h.ctx.KV.Set(ctx, args.Key, args.Value, args.TTL))
	return nil
}

func (h *hostServer) KVDelete(args *KVDeleteArgs, reply *Ack) error {
	if h.ctx.KV == nil {
		reply.Err = pluginsdk.Errorf("host service kv not granted")
		return nil
	}
	ctx, done := h.calls.begin(args.Call)
	defer done()
	reply.Err = pluginsdk.AsError(h.ctx.KV.Delete(ctx, args.Key))
	return nil
}

func (h *hostServer) Log(args *LogArgs, reply *Ack) error {
	if h.ctx.Log == nil {
		return nil
	}
	handler := h.ctx.Log.Handler()
	level := slog.Level(args.Level)
	if !handler.Enabled(h.calls.base, level) {
		return nil
	}
	r := slog.NewRecord(args.Time, level, args.Message, 0)
	for _, a := range args.Attrs {
		r.AddAttrs(a.Attr())
	}
	// A logging failure is the host's to report, not the plugin's.
	_ = handler.Handle(h.calls.base, r)
	return nil
}
