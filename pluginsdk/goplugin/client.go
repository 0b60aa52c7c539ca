package goplugin

import (
	"context"
	"errors"
	"log/slog"
	"net/rpc"
	"sync"

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

	// Host services started by Configure run until Close.
	stop    context.Context
	stopNow context.CancelFunc
	wg      sync.WaitGroup
}

func newClient(b *plugin.MuxBroker, c *rpc.Client) *Client {
	stop, stopNow := context.WithCancel(context.Background())
	cl := &Client{broker: b, stop: stop, stopNow: stopNow}
	cl.c.rpc = c
	return cl
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
		args.HostID = c.broker.NextId()
		hs := &hostServer{ctx: pc, calls: newCalls(c.stop)}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			// Returns when the plugin closes the stream or the session ends.
			c.broker.AcceptAndServe(args.HostID, hs)
		}()
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
	if err := c.c.rpc.Close(); err != nil && !errors.Is(err, rpc.ErrShutdown) {
		return err
	}
	return nil
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
