package pluginsdk

import (
	"encoding/json"
	"time"
)

// HTTPRequest is an inbound push request as a connector sees it (Receive), and
// also an outbound request a connector asks the host to make (Host.HTTP).
// Header names are canonical (textproto.CanonicalMIMEHeaderKey).
type HTTPRequest struct {
	Method string              `json:"method"`
	URL    string              `json:"url,omitempty"`  // outbound: absolute URL; inbound: full request URL as received
	Path   string              `json:"path,omitempty"` // inbound: the part after /hooks/{connection}, "" or "/v1/batch"
	Query  map[string][]string `json:"query,omitempty"`
	Header map[string][]string `json:"header,omitempty"`
	Body   []byte              `json:"body,omitempty"`
	// RemoteAddr is the client address of an inbound request.
	RemoteAddr string `json:"remoteAddr,omitempty"`
	// Timeout bounds an outbound request (0: the host default).
	Timeout time.Duration `json:"timeout,omitempty"`

	// lookup serves HeaderValue when Header is nil (see FlatHeaders).
	lookup HeaderLookup
}

// HeaderValue returns the first value of header name (canonical form).
func (r *HTTPRequest) HeaderValue(name string) string {
	if v := r.Header[name]; len(v) > 0 {
		return v[0]
	}
	if r.Header == nil && r.lookup != nil {
		v, _ := r.lookup.First(name)
		return v
	}
	return ""
}

// HTTPResponse is what a connector returns to an inbound caller, or what the
// host returns for an outbound request.
type HTTPResponse struct {
	Status int                 `json:"status"`
	Header map[string][]string `json:"header,omitempty"`
	Body   []byte              `json:"body,omitempty"`
}

// Event is one inbound record produced by Receive or Fetch. The host writes it
// to the durable log; Payload is what workflows address as `$`.
type Event struct {
	// Payload is the event as raw JSON; passed through unchanged.
	Payload json.RawMessage `json:"payload"`
	// DedupKey, when set, drops a later event of the same connection with the
	// same key inside the connection's dedup window (Segment messageId,
	// Salesforce notification Id).
	DedupKey string `json:"dedupKey,omitempty"`
	// Type is a short label for the event (segment call type, sObject type,
	// entity name); used in metrics and the console.
	Type string `json:"type,omitempty"`
	// Time is when the event happened according to the source (zero: unknown).
	Time time.Time `json:"time,omitzero"`
}

// ItemError reports one rejected item of a batch, by its index in the batch.
type ItemError struct {
	Index   int    `json:"index"`
	Message string `json:"message"`
}

// ReceiveResult is what Receive returns. The host stores Events durably, then
// answers the caller with Response. If storing fails, the host answers with
// an error instead (and the caller retries), so Response must only promise
// what the host has stored.
type ReceiveResult struct {
	Events   []Event      `json:"events"`
	Response HTTPResponse `json:"response"`
	// Rejected lists batch items that were not accepted (the rest were).
	Rejected []ItemError `json:"rejected,omitempty"`
}

// FetchRequest asks a pull connector for the next batch after Cursor.
type FetchRequest struct {
	Entity string `json:"entity,omitempty"`
	// Cursor is opaque to the host: whatever the connector returned last time
	// (empty on the first fetch).
	Cursor []byte `json:"cursor,omitempty"`
	// Limit is a hint for the batch size (0: the connector decides).
	Limit int `json:"limit,omitempty"`
}

// FetchResult is one batch of a fetch. The host commits Events and Cursor in
// one write, never the cursor before the events.
type FetchResult struct {
	Events []Event `json:"events"`
	Cursor []byte  `json:"cursor,omitempty"`
	// More is true when another Fetch with Cursor would return more now.
	More bool `json:"more,omitempty"`
}

// MetadataResult lists the entities and fields a pull connector offers.
type MetadataResult struct {
	Entities []Entity `json:"entities"`
}

// PerformRequest asks an outbound connector to carry out Action.
type PerformRequest struct {
	Action string          `json:"action"`
	Input  json.RawMessage `json:"input"`
	// IdempotencyKey is stable across retries of the same task of the same run
	// (run ID + task name): connectors pass it on where the target supports it.
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
	// Attempt counts from 1.
	Attempt int `json:"attempt,omitempty"`
}

// PerformResult is the output recorded on the run's task.
type PerformResult struct {
	Output json.RawMessage `json:"output,omitempty"`
}
