package goplugin

import (
	"context"
	"fmt"
	"log/slog"
	"net/rpc"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// The proxies below run in the plugin process and forward a connector's use
// of its Context services to the host.

// remoteHTTP implements pluginsdk.HTTPClient through the host.
type remoteHTTP struct{ c *caller }

func (h *remoteHTTP) Do(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	args := &HTTPArgs{Req: *req}
	var reply HTTPReply
	if err := h.c.call(ctx, "Plugin.HTTP", &args.Call, args, &reply); err != nil {
		return nil, hostErr("http", err)
	}
	if reply.Err != nil {
		return nil, reply.Err
	}
	return reply.Resp, nil
}

// remoteKV implements pluginsdk.KV through the host.
type remoteKV struct{ c *caller }

func (k *remoteKV) Get(ctx context.Context, key string) ([]byte, bool, error) {
	args := &KVGetArgs{Key: key}
	var reply KVGetReply
	if err := k.c.call(ctx, "Plugin.KVGet", &args.Call, args, &reply); err != nil {
		return nil, false, hostErr("kv get", err)
	}
	if reply.Err != nil {
		return nil, false, reply.Err
	}
	return reply.Value, reply.Found, nil
}

func (k *remoteKV) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	args := &KVSetArgs{Key: key, Value: value, TTL: ttl}
	var reply Ack
	if err := k.c.call(ctx, "Plugin.KVSet", &args.Call, args, &reply); err != nil {
		return hostErr("kv set", err)
	}
	if reply.Err != nil {
		return reply.Err
	}
	return nil
}

func (k *remoteKV) Delete(ctx context.Context, key string) error {
	args := &KVDeleteArgs{Key: key}
	var reply Ack
	if err := k.c.call(ctx, "Plugin.KVDelete", &args.Call, args, &reply); err != nil {
		return hostErr("kv delete", err)
	}
	if reply.Err != nil {
		return reply.Err
	}
	return nil
}

// hostErr keeps context errors recognisable (errors.Is) and marks a broken
// host connection retryable, as a native connector's network failure is.
func hostErr(op string, err error) error {
	if _, ok := err.(*TransportError); ok {
		return pluginsdk.Retryable("host %s: %v", op, err)
	}
	return fmt.Errorf("host %s: %w", op, err)
}

// remoteLog is a slog.Handler that sends records to the host logger.
type remoteLog struct {
	rpc    *rpc.Client
	level  slog.Level
	prefix string // open groups, dotted, with a trailing dot
	attrs  []LogAttr
}

func newRemoteLogger(c *rpc.Client, level int) *slog.Logger {
	return slog.New(&remoteLog{rpc: c, level: slog.Level(level)})
}

func (h *remoteLog) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *remoteLog) Handle(_ context.Context, r slog.Record) error {
	args := &LogArgs{Time: r.Time, Level: int(r.Level), Message: r.Message}
	args.Attrs = append(args.Attrs, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		args.Attrs = flatten(args.Attrs, h.prefix, a)
		return true
	})
	// Synchronous on purpose: net/rpc serves concurrent calls in parallel,
	// so fire-and-forget records could reach the host out of order.
	var reply Ack
	return h.rpc.Call("Plugin.Log", args, &reply)
}

func (h *remoteLog) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = append([]LogAttr(nil), h.attrs...)
	for _, a := range as {
		n.attrs = flatten(n.attrs, h.prefix, a)
	}
	return &n
}

func (h *remoteLog) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

// flatten appends a with its groups expanded into dotted keys.
func flatten(dst []LogAttr, prefix string, a slog.Attr) []LogAttr {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p = prefix + a.Key + "."
		}
		for _, g := range v.Group() {
			dst = flatten(dst, p, g)
		}
		return dst
	}
	if a.Key == "" {
		return dst
	}
	la := LogAttr{Key: prefix + a.Key, Kind: int(v.Kind())}
	switch v.Kind() {
	case slog.KindString:
		la.Str = v.String()
	case slog.KindInt64:
		la.Int = v.Int64()
	case slog.KindUint64:
		la.Uint = v.Uint64()
	case slog.KindFloat64:
		la.Float = v.Float64()
	case slog.KindBool:
		la.Bool = v.Bool()
	case slog.KindDuration:
		la.Int = int64(v.Duration())
	case slog.KindTime:
		la.Time = v.Time()
	default:
		la.Kind = int(slog.KindString)
		la.Str = fmt.Sprint(v.Any())
	}
	return append(dst, la)
}

// Attr converts a flattened attribute back to a slog.Attr.
func (a LogAttr) Attr() slog.Attr {
	switch slog.Kind(a.Kind) {
	case slog.KindInt64:
		return slog.Int64(a.Key, a.Int)
	case slog.KindUint64:
		return slog.Uint64(a.Key, a.Uint)
	case slog.KindFloat64:
		return slog.Float64(a.Key, a.Float)
	case slog.KindBool:
		return slog.Bool(a.Key, a.Bool)
	case slog.KindDuration:
		return slog.Duration(a.Key, time.Duration(a.Int))
	case slog.KindTime:
		return slog.Time(a.Key, a.Time)
	default:
		return slog.String(a.Key, a.Str)
	}
}
