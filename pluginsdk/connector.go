package pluginsdk

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
)

// Connector is implemented by every connector, whatever form it is built to.
// The roles (Receiver, Fetcher, MetadataProvider, Performer) are optional
// interfaces; a connector implements those its Spec declares.
//
// Lifecycle: the host creates a connector per connection (per pool slot for
// Wasm), calls Configure once, then any number of role calls. A connector must
// not keep delivery state across calls: the host owns the log, acks and
// cursors.
type Connector interface {
	Spec() Spec
	// Configure checks the connection's settings and keeps what later calls
	// need. It must do no I/O beyond the Host it is given, and must fail with
	// a message naming each missing or invalid key.
	Configure(ctx context.Context, c *Context) error
}

// Receiver handles inbound push requests (POST /hooks/{connection}...).
type Receiver interface {
	Receive(ctx context.Context, req *HTTPRequest) (*ReceiveResult, error)
}

// Fetcher pulls records after a cursor.
type Fetcher interface {
	Fetch(ctx context.Context, req *FetchRequest) (*FetchResult, error)
}

// MetadataProvider lists entities and fields without fetching records.
type MetadataProvider interface {
	Metadata(ctx context.Context) (*MetadataResult, error)
}

// Performer carries out outbound actions.
type Performer interface {
	Perform(ctx context.Context, req *PerformRequest) (*PerformResult, error)
}

// Context is what the host gives a connector at Configure: the connection's
// name, its config and auth, and the host services it was granted.
type Context struct {
	Connection string `json:"connection"`
	// Config is the connection's `config:` block as JSON, ${VAR}s resolved.
	Config json.RawMessage `json:"config,omitempty"`
	Auth   Auth            `json:"auth"`
	// Secrets holds the secrets the connection granted, by name.
	Secrets map[string]string `json:"secrets,omitempty"`
	// BaseURL is the public base URL of this hub (for links and signature
	// checks that cover the full URL, e.g. Twilio).
	BaseURL string `json:"baseURL,omitempty"`

	HTTP HTTPClient   `json:"-"`
	KV   KV           `json:"-"`
	Log  *slog.Logger `json:"-"`
}

// Auth is a connection's `auth:` block with secrets resolved.
type Auth struct {
	Type     AuthType `json:"type,omitempty"`
	Secret   string   `json:"secret,omitempty"` // api_key
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	// OAuth2 client credentials.
	TokenURL     string   `json:"tokenURL,omitempty"`
	ClientID     string   `json:"clientID,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	Audience     string   `json:"audience,omitempty"`
}

// HTTPClient makes outbound requests through the host, which enforces the
// connection's allow-list of hosts, timeouts and response size limits.
type HTTPClient interface {
	Do(ctx context.Context, req *HTTPRequest) (*HTTPResponse, error)
}

// KV is a small key-value store namespaced to the connection.
type KV interface {
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	// Set stores value; ttl 0 keeps it until deleted.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, key string) error
}
