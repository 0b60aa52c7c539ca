// Package abi is the wire contract between the Junction Wasm host
// (core/plugin/wasmhost) and a connector's guest glue (pluginsdk/wasm): export and
// import names, role numbers, and the compact binary envelope both sides
// encode. Connector authors never use it directly.
//
// Shape of one call (see pluginsdk/RATIONALE.md for why):
//
//	host:  p := junction_buffer(n)          // guest-owned request buffer, reused
//	host:  write request bytes at p
//	host:  r := junction_handle(role, n)    // r = ptr<<32 | len of the response
//	host:  copy the response out            // valid until the next handle call
//
// A request is [deadline int64 unix-nanos, 0 = none][role body]. A response is
// [status u8][body]: StatusOK with the role's result, or StatusError with an
// encoded *pluginsdk.Error. Cold roles (spec, configure, metadata) carry JSON
// bodies; hot roles (receive, fetch, perform) are binary, with event payloads
// as raw bytes passed through untouched.
//
// Before compiling a module the host adds a fuel check to every loop that
// calls the imported junction.yield every few thousand iterations; a module
// must import it (the guest glue does), or the host refuses it.
package abi

// Version is the ABI a guest declares through its junction_abi export. It
// matches pluginsdk.ABIVersion, which a Spec repeats.
const Version = 1

// Guest exports.
const (
	ExportABI        = "junction_abi"    // () -> i32 version
	ExportBuffer     = "junction_buffer" // (size i32) -> i32 ptr of a buffer of at least size bytes
	ExportHandle     = "junction_handle" // (role i32, len i32) -> i64 ptr<<32|len
	ExportInitialize = "_initialize"     // Go reactor start function
	ExportMemory     = "memory"
)

// HostModule is the import module name of the host functions.
const HostModule = "junction"

// Host functions (all pointers and lengths are i32 into guest memory). A
// function returning data writes at most outCap bytes to out and returns the
// full length n; when n > outCap the host keeps the data until the guest calls
// take with a buffer of n bytes. Host functions never call back into the guest.
const (
	HostHTTP        = "http_request" // (req, reqLen, out, outCap) -> n: result envelope with an HTTP response
	HostKVGet       = "kv_get"       // (key, keyLen, out, outCap) -> n: result envelope with the value
	HostKVSet       = "kv_set"       // (key, keyLen, val, valLen, ttlNanos i64, out, outCap) -> n: result envelope
	HostKVDelete    = "kv_delete"    // (key, keyLen, out, outCap) -> n: result envelope
	HostLog         = "log"          // (level i32, rec, recLen): message and string attributes
	HostTake        = "take"         // (dst, n) -> n copied, or -1 when nothing is pending
	HostJSONPaths   = "json_paths"   // (paths, len) -> handle > 0: NUL-separated JSON paths
	HostJSONExtract = "json_extract" // (handle, doc, docLen, spans) -> 0, or n: a pending error report
	HostJSONSplit   = "json_split"   // (doc, docLen, spans, spansCap) -> count >= 0, or -n: a pending error report
	// HostXMLTokens tokenizes an XML document with encoding/xml in the host
	// and returns the pluginsdk/xmlscan token stream (its error included).
	// Added within ABI version 1: a module importing it needs a host that
	// has it, and an older host refuses the module naming the import.
	HostXMLTokens = "xml_tokens" // (doc, docLen, out, outCap) -> n: the stream's length
	// HostYield is called by the loop checks the host instruments a module
	// with (never by Go code, except once to keep the import linked): it is
	// where a guest whose call has run out of time is stopped.
	HostYield = "yield" // ()
)

// Role numbers passed to junction_handle.
const (
	RoleSpec      = 1
	RoleConfigure = 2
	RoleReceive   = 3
	RoleFetch     = 4
	RoleMetadata  = 5
	RolePerform   = 6
)

// RoleName is the pluginsdk role name (or "spec"/"configure") of a role number.
func RoleName(role int32) string {
	switch role {
	case RoleSpec:
		return "spec"
	case RoleConfigure:
		return "configure"
	case RoleReceive:
		return "receive"
	case RoleFetch:
		return "fetch"
	case RoleMetadata:
		return "metadata"
	case RolePerform:
		return "perform"
	}
	return "unknown"
}

// Status bytes that open every response and host-function result envelope.
const (
	StatusOK       = 0
	StatusError    = 1
	StatusNotFound = 2 // kv_get only
)

// NoSpan marks an absent path in json_extract output.
const NoSpan = 0xFFFFFFFF
