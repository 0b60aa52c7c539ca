//go:build wasip1

package wasm

import (
	"context"
	"log/slog"
	"time"
	"unsafe"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/wasm/abi"
)

// Host functions; names and signatures are documented in pluginsdk/wasm/abi.

//go:wasmimport junction http_request
func hostHTTPRequest(req unsafe.Pointer, reqLen uint32, out unsafe.Pointer, outCap uint32) uint32

//go:wasmimport junction kv_get
func hostKVGet(key unsafe.Pointer, keyLen uint32, out unsafe.Pointer, outCap uint32) uint32

//go:wasmimport junction kv_set
func hostKVSet(key unsafe.Pointer, keyLen uint32, val unsafe.Pointer, valLen uint32, ttl int64, out unsafe.Pointer, outCap uint32) uint32

//go:wasmimport junction kv_delete
func hostKVDelete(key unsafe.Pointer, keyLen uint32, out unsafe.Pointer, outCap uint32) uint32

//go:wasmimport junction log
func hostLog(level int32, rec unsafe.Pointer, recLen uint32)

//go:wasmimport junction take
func hostTake(dst unsafe.Pointer, n uint32) int32

// scratch receives host results; one that does not fit is fetched with take.
var scratch [8 << 10]byte

func scratchPtr() unsafe.Pointer { return unsafe.Pointer(&scratch[0]) }

// result returns an owned copy of a host result of n bytes.
func result(n uint32) []byte {
	buf := make([]byte, n)
	if n == 0 {
		return buf
	}
	if int(n) <= len(scratch) {
		copy(buf, scratch[:n])
		return buf
	}
	if hostTake(unsafe.Pointer(&buf[0]), n) != int32(n) {
		return nil
	}
	return buf
}

// decodeStatus opens a result envelope: on StatusError it returns the typed
// error the host sent.
func decodeStatus(d *abi.Decoder) (status uint8, err error) {
	status = d.U8()
	if d.Err() != nil {
		return 0, &pluginsdk.Error{Code: "abi", Message: "empty result from the host", Retryable: true}
	}
	if status == abi.StatusError {
		return status, abi.GetError(d)
	}
	return status, nil
}

func strPtr(s string) unsafe.Pointer { return unsafe.Pointer(unsafe.StringData(s)) }

func bytesPtr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// hostHTTP sends requests through the host, which applies the connection's
// allow-list, timeouts and size limits; a guest has no sockets of its own.
type hostHTTP struct{}

func (hostHTTP) Do(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	var e abi.Encoder
	abi.PutHTTPRequest(&e, req)
	n := hostHTTPRequest(bytesPtr(e.B), uint32(len(e.B)), scratchPtr(), uint32(len(scratch)))
	var d abi.Decoder
	d.Reset(result(n))
	if _, err := decodeStatus(&d); err != nil {
		return nil, err
	}
	resp := &pluginsdk.HTTPResponse{}
	if abi.GetHTTPResponse(&d, resp); d.Err() != nil {
		return nil, malformed(d.Err())
	}
	return resp, nil
}

// hostKV is the connection's namespaced key-value store, kept by the host.
type hostKV struct{}

func (hostKV) Get(_ context.Context, key string) ([]byte, bool, error) {
	n := hostKVGet(strPtr(key), uint32(len(key)), scratchPtr(), uint32(len(scratch)))
	var d abi.Decoder
	d.Reset(result(n))
	status, err := decodeStatus(&d)
	if err != nil {
		return nil, false, err
	}
	if status == abi.StatusNotFound {
		return nil, false, nil
	}
	v := d.Bytes()
	if v == nil {
		v = []byte{}
	}
	return v, true, d.Err()
}

func (hostKV) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	n := hostKVSet(strPtr(key), uint32(len(key)), bytesPtr(value), uint32(len(value)), int64(ttl), scratchPtr(), uint32(len(scratch)))
	var d abi.Decoder
	d.Reset(result(n))
	_, err := decodeStatus(&d)
	return err
}

func (hostKV) Delete(_ context.Context, key string) error {
	n := hostKVDelete(strPtr(key), uint32(len(key)), scratchPtr(), uint32(len(scratch)))
	var d abi.Decoder
	d.Reset(result(n))
	_, err := decodeStatus(&d)
	return err
}

// logHandler forwards records to the connection's logger in the host.
// Attribute values travel as strings; groups flatten into dotted keys.
type logHandler struct {
	attrs  []slog.Attr
	prefix string
}

func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= g.minLevel }

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	kv := make([]string, 0, 2*(len(h.attrs)+r.NumAttrs()))
	for _, a := range h.attrs {
		kv = appendAttr(kv, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		kv = appendAttr(kv, h.prefix, a)
		return true
	})
	sendLog(r.Level, r.Message, kv)
	return nil
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := &logHandler{attrs: append([]slog.Attr(nil), h.attrs...), prefix: h.prefix}
	for _, a := range as {
		a.Key = h.prefix + a.Key
		n.attrs = append(n.attrs, a)
	}
	return n
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &logHandler{attrs: h.attrs, prefix: h.prefix + name + "."}
}

func appendAttr(kv []string, prefix string, a slog.Attr) []string {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, ga := range v.Group() {
			kv = appendAttr(kv, p, ga)
		}
		return kv
	}
	if a.Key == "" {
		return kv
	}
	return append(kv, prefix+a.Key, v.String())
}

// guestLog logs from the glue itself, outside any connector logger.
func guestLog(level slog.Level, msg string, kv ...string) {
	sendLog(level, msg, kv)
}

func sendLog(level slog.Level, msg string, kv []string) {
	var e abi.Encoder
	e.String(msg)
	e.U32(uint32(len(kv) / 2))
	for _, s := range kv {
		e.String(s)
	}
	hostLog(int32(level), bytesPtr(e.B), uint32(len(e.B)))
}
