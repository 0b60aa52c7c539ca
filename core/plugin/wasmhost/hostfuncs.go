package wasmhost

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/api"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// hostFunctionNames are the functions of the "junction" import module.
var hostFunctionNames = map[string]bool{
	abi.HostHTTP: true, abi.HostKVGet: true, abi.HostKVSet: true, abi.HostKVDelete: true,
	abi.HostLog: true, abi.HostTake: true, abi.HostJSONPaths: true, abi.HostJSONExtract: true,
	abi.HostJSONSplit: true, abi.HostYield: true, abi.HostXMLTokens: true,
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// instantiateHost defines the host functions. Each finds its instance (and so
// its connection's Context) in the call's context; none calls back into the
// guest, which is suspended inside its own call meanwhile.
func (r *Runtime) instantiateHost(ctx context.Context) error {
	b := r.rt.NewHostModuleBuilder(abi.HostModule)
	def := func(name string, f api.GoModuleFunc, params, results []api.ValueType) {
		b.NewFunctionBuilder().WithGoModuleFunction(f, params, results).WithName(name).Export(name)
	}
	def(abi.HostHTTP, r.hostHTTP, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	def(abi.HostKVGet, r.hostKVGet, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	def(abi.HostKVSet, r.hostKVSet, []api.ValueType{i32, i32, i32, i32, i64, i32, i32}, []api.ValueType{i32})
	def(abi.HostKVDelete, r.hostKVDelete, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	def(abi.HostLog, r.hostLog, []api.ValueType{i32, i32, i32}, nil)
	def(abi.HostTake, hostTake, []api.ValueType{i32, i32}, []api.ValueType{i32})
	def(abi.HostJSONPaths, hostJSONPaths, []api.ValueType{i32, i32}, []api.ValueType{i32})
	def(abi.HostJSONExtract, hostJSONExtract, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	def(abi.HostJSONSplit, hostJSONSplit, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	def(abi.HostYield, hostYield, nil, nil)
	def(abi.HostXMLTokens, hostXMLTokens, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	_, err := b.Instantiate(ctx)
	return err
}

// reply hands a result to the guest: written to out when it fits, otherwise
// kept for take. Either way the guest learns the full length.
func (in *instance) reply(mem api.Memory, b []byte, out, outCap uint32) uint32 {
	if uint32(len(b)) <= outCap {
		mem.Write(out, b)
	} else {
		in.pending = append(in.pending[:0], b...)
	}
	return uint32(len(b))
}

// replyErr encodes err as a StatusError result envelope.
func (in *instance) replyErr(mem api.Memory, err error, out, outCap uint32) uint32 {
	var e abi.Encoder
	e.U8(abi.StatusError)
	abi.PutError(&e, pluginsdk.AsError(err))
	return in.reply(mem, e.B, out, outCap)
}

// read returns a copy of guest memory [ptr, ptr+n).
func read(mem api.Memory, ptr, n uint32) ([]byte, bool) {
	v, ok := mem.Read(ptr, n)
	if !ok {
		return nil, false
	}
	return append([]byte(nil), v...), true
}

var errMemory = &pluginsdk.Error{Code: "abi", Message: "host function: argument outside guest memory"}

// service returns the calling instance and its connection's Context; a nil
// Context means the instance is not serving a configured connection yet
// (the spec instance, or package initialisation).
func service(ctx context.Context) (*instance, *pluginsdk.Context) {
	in := instanceFrom(ctx)
	if in == nil || in.owner == nil {
		return in, nil
	}
	return in, in.owner.context()
}

func (r *Runtime) hostHTTP(ctx context.Context, mod api.Module, st []uint64) {
	reqPtr, reqLen, out, outCap := api.DecodeU32(st[0]), api.DecodeU32(st[1]), api.DecodeU32(st[2]), api.DecodeU32(st[3])
	in, pc := service(ctx)
	if in == nil {
		st[0] = 0
		return
	}
	mem := mod.Memory()
	raw, ok := read(mem, reqPtr, reqLen)
	if !ok {
		st[0] = api.EncodeU32(in.replyErr(mem, errMemory, out, outCap))
		return
	}
	var req pluginsdk.HTTPRequest
	d := abi.NewDecoder(raw)
	if abi.GetHTTPRequest(d, &req); d.Err() != nil {
		st[0] = api.EncodeU32(in.replyErr(mem, pluginsdk.Errorf("http_request: %v", d.Err()), out, outCap))
		return
	}
	if pc == nil || pc.HTTP == nil {
		st[0] = api.EncodeU32(in.replyErr(mem, pluginsdk.Errorf("http %s %s: the connection has no HTTP access", req.Method, withoutQuery(req.URL)), out, outCap))
		return
	}
	start := time.Now()
	resp, err := pc.HTTP.Do(ctx, &req)
	log := in.logger()
	if err != nil {
		log.Debug("guest http request failed", "method", req.Method, "url", withoutQuery(req.URL), "duration", time.Since(start), "error", err)
		st[0] = api.EncodeU32(in.replyErr(mem, err, out, outCap))
		return
	}
	log.Debug("guest http request", "method", req.Method, "url", withoutQuery(req.URL), "status", resp.Status, "duration", time.Since(start))
	var e abi.Encoder
	e.U8(abi.StatusOK)
	abi.PutHTTPResponse(&e, resp)
	st[0] = api.EncodeU32(in.reply(mem, e.B, out, outCap))
}

func (r *Runtime) hostKVGet(ctx context.Context, mod api.Module, st []uint64) {
	keyPtr, keyLen, out, outCap := api.DecodeU32(st[0]), api.DecodeU32(st[1]), api.DecodeU32(st[2]), api.DecodeU32(st[3])
	in, kv, mem, key, ok := kvArgs(ctx, mod, keyPtr, keyLen)
	if in == nil {
		st[0] = 0
		return
	}
	if !ok {
		st[0] = api.EncodeU32(in.replyErr(mem, kv.err, out, outCap))
		return
	}
	v, found, err := kv.kv.Get(ctx, key)
	if err != nil {
		st[0] = api.EncodeU32(in.replyErr(mem, err, out, outCap))
		return
	}
	var e abi.Encoder
	if !found {
		e.U8(abi.StatusNotFound)
	} else {
		e.U8(abi.StatusOK)
		e.Bytes(v)
	}
	st[0] = api.EncodeU32(in.reply(mem, e.B, out, outCap))
}

func (r *Runtime) hostKVSet(ctx context.Context, mod api.Module, st []uint64) {
	keyPtr, keyLen, valPtr, valLen := api.DecodeU32(st[0]), api.DecodeU32(st[1]), api.DecodeU32(st[2]), api.DecodeU32(st[3])
	ttl, out, outCap := time.Duration(int64(st[4])), api.DecodeU32(st[5]), api.DecodeU32(st[6])
	in, kv, mem, key, ok := kvArgs(ctx, mod, keyPtr, keyLen)
	if in == nil {
		st[0] = 0
		return
	}
	if !ok {
		st[0] = api.EncodeU32(in.replyErr(mem, kv.err, out, outCap))
		return
	}
	val, ok := read(mem, valPtr, valLen)
	if !ok {
		st[0] = api.EncodeU32(in.replyErr(mem, errMemory, out, outCap))
		return
	}
	if err := kv.kv.Set(ctx, key, val, ttl); err != nil {
		st[0] = api.EncodeU32(in.replyErr(mem, err, out, outCap))
		return
	}
	st[0] = api.EncodeU32(in.reply(mem, []byte{abi.StatusOK}, out, outCap))
}

func (r *Runtime) hostKVDelete(ctx context.Context, mod api.Module, st []uint64) {
	keyPtr, keyLen, out, outCap := api.DecodeU32(st[0]), api.DecodeU32(st[1]), api.DecodeU32(st[2]), api.DecodeU32(st[3])
	in, kv, mem, key, ok := kvArgs(ctx, mod, keyPtr, keyLen)
	if in == nil {
		st[0] = 0
		return
	}
	if !ok {
		st[0] = api.EncodeU32(in.replyErr(mem, kv.err, out, outCap))
		return
	}
	if err := kv.kv.Delete(ctx, key); err != nil {
		st[0] = api.EncodeU32(in.replyErr(mem, err, out, outCap))
		return
	}
	st[0] = api.EncodeU32(in.reply(mem, []byte{abi.StatusOK}, out, outCap))
}

type kvOrErr struct {
	kv  pluginsdk.KV
	err error
}

func kvArgs(ctx context.Context, mod api.Module, keyPtr, keyLen uint32) (*instance, kvOrErr, api.Memory, string, bool) {
	in, pc := service(ctx)
	mem := mod.Memory()
	if in == nil {
		return nil, kvOrErr{}, mem, "", false
	}
	key, ok := mem.Read(keyPtr, keyLen)
	if !ok {
		return in, kvOrErr{err: errMemory}, mem, "", false
	}
	if pc == nil || pc.KV == nil {
		return in, kvOrErr{err: pluginsdk.Errorf("kv: the connection has no KV store")}, mem, "", false
	}
	return in, kvOrErr{kv: pc.KV}, mem, string(key), true
}

func (r *Runtime) hostLog(ctx context.Context, mod api.Module, st []uint64) {
	level, ptr, n := slog.Level(api.DecodeI32(st[0])), api.DecodeU32(st[1]), api.DecodeU32(st[2])
	raw, ok := read(mod.Memory(), ptr, n)
	if !ok {
		return
	}
	d := abi.NewDecoder(raw)
	msg := d.String()
	count := int(d.U32())
	if d.Err() != nil || count > len(raw)/8 {
		return
	}
	attrs := make([]slog.Attr, 0, count)
	for i := 0; i < count; i++ {
		k, v := d.String(), d.String()
		if d.Err() != nil {
			return
		}
		attrs = append(attrs, slog.String(k, v))
	}
	log := r.log
	if in := instanceFrom(ctx); in != nil {
		log = in.logger()
	}
	log.LogAttrs(ctx, level, msg, attrs...)
}

// errInterrupted aborts a guest whose call context has ended.
var errInterrupted = errors.New("interrupted")

// hostYield is called by instrumented loops every few thousand iterations:
// it is where a running guest is stopped once its deadline has passed or its
// call was cancelled. Panicking unwinds the guest; wazero returns the panic
// as the call's error.
func hostYield(ctx context.Context, _ api.Module, _ []uint64) {
	expired := ctx.Err() != nil
	if d, ok := ctx.Deadline(); ok && !expired {
		// Do not wait for the timer goroutine to mark the context done.
		expired = !time.Now().Before(d)
	}
	if !expired {
		return
	}
	if in := instanceFrom(ctx); in != nil {
		in.interrupted = true
	}
	panic(errInterrupted)
}

func hostTake(ctx context.Context, mod api.Module, st []uint64) {
	dst, n := api.DecodeU32(st[0]), api.DecodeU32(st[1])
	in := instanceFrom(ctx)
	if in == nil || in.pending == nil {
		st[0] = api.EncodeI32(-1)
		return
	}
	p := in.pending
	if uint32(len(p)) > n {
		p = p[:n]
	}
	if !mod.Memory().Write(dst, p) {
		st[0] = api.EncodeI32(-1)
		return
	}
	in.pending = in.pending[:0:0]
	st[0] = api.EncodeI32(int32(len(p)))
}

func hostJSONPaths(ctx context.Context, mod api.Module, st []uint64) {
	ptr, n := api.DecodeU32(st[0]), api.DecodeU32(st[1])
	in := instanceFrom(ctx)
	raw, ok := mod.Memory().Read(ptr, n)
	if in == nil || !ok {
		st[0] = api.EncodeI32(-1)
		return
	}
	var list []string
	if n > 0 {
		list = strings.Split(string(raw), "\x00")
	}
	p, err := fields.Compile(list...)
	if err != nil {
		st[0] = api.EncodeI32(-1)
		return
	}
	in.paths = append(in.paths, p)
	st[0] = api.EncodeI32(int32(len(in.paths)))
}

// syntaxReport keeps a scan error for take: [offset u32][message].
func (in *instance) syntaxReport(err error) uint32 {
	off, msg := 0, err.Error()
	if se, ok := err.(*fields.SyntaxError); ok {
		off, msg = se.Offset, se.Msg
	}
	in.pending = binary.LittleEndian.AppendUint32(in.pending[:0], uint32(off))
	in.pending = append(in.pending, msg...)
	return uint32(len(in.pending))
}

// hostJSONExtract scans a guest document natively, in place: the guest's
// bytes are read through a view of its memory, never copied.
func hostJSONExtract(ctx context.Context, mod api.Module, st []uint64) {
	h, docPtr, docLen, spansPtr := api.DecodeI32(st[0]), api.DecodeU32(st[1]), api.DecodeU32(st[2]), api.DecodeU32(st[3])
	in := instanceFrom(ctx)
	if in == nil {
		st[0] = 0
		return
	}
	mem := mod.Memory()
	doc, ok := mem.Read(docPtr, docLen)
	if h <= 0 || int(h) > len(in.paths) || !ok {
		st[0] = api.EncodeU32(in.syntaxReport(errMemory))
		return
	}
	p := in.paths[h-1]
	if cap(in.spans) < p.Len() {
		in.spans = make([]fields.Span, p.Len())
	}
	spans := in.spans[:p.Len()]
	if err := p.Spans(doc, spans); err != nil {
		st[0] = api.EncodeU32(in.syntaxReport(err))
		return
	}
	in.scratch = appendSpans(in.scratch[:0], spans)
	if !mem.Write(spansPtr, in.scratch) {
		st[0] = api.EncodeU32(in.syntaxReport(errMemory))
		return
	}
	st[0] = 0
}

func hostJSONSplit(ctx context.Context, mod api.Module, st []uint64) {
	docPtr, docLen, spansPtr, spansCap := api.DecodeU32(st[0]), api.DecodeU32(st[1]), api.DecodeU32(st[2]), api.DecodeU32(st[3])
	in := instanceFrom(ctx)
	if in == nil {
		st[0] = api.EncodeI32(-1)
		return
	}
	mem := mod.Memory()
	doc, ok := mem.Read(docPtr, docLen)
	if !ok {
		st[0] = api.EncodeI32(-int32(in.syntaxReport(errMemory)))
		return
	}
	spans, err := fields.ElementSpans(doc, in.spans[:0])
	in.spans = spans[:0]
	if err != nil {
		st[0] = api.EncodeI32(-int32(in.syntaxReport(err)))
		return
	}
	b := appendSpans(in.scratch[:0], spans)
	in.scratch = b[:0]
	if uint32(len(b)) <= spansCap {
		mem.Write(spansPtr, b)
	} else {
		in.pending = append(in.pending[:0], b...)
	}
	st[0] = api.EncodeI32(int32(len(spans)))
}

func appendSpans(b []byte, spans []fields.Span) []byte {
	for _, s := range spans {
		if s.Start < 0 {
			b = binary.LittleEndian.AppendUint32(b, abi.NoSpan)
			b = binary.LittleEndian.AppendUint32(b, abi.NoSpan)
			continue
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(s.Start))
		b = binary.LittleEndian.AppendUint32(b, uint32(s.End))
	}
	return b
}

// withoutQuery drops a URL's query and fragment before it is logged or put
// in an error: APIs such as Marketo's token endpoint carry secrets there.
func withoutQuery(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}
