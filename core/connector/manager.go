package connector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// Opener creates the (unconfigured) connector for a connection's
// `connector:` value. The hub supplies one that knows builtins and installed
// plugins.
type Opener func(ctx context.Context, c *config.Connection) (Opened, error)

// Opened is a connector ready to be configured.
type Opened struct {
	Connector pluginsdk.Connector
	// Closer, when set, releases the connector (a plugin process, a pool).
	Closer io.Closer
	// Grants, when set, confine the connector to what its plugin was granted
	// at install; builtins (nil Grants) are trusted code.
	Grants *Grants
}

// Grants are the host services a plugin may use.
type Grants struct {
	Plugin string // name@version, for error messages
	// HTTPHosts the plugin may reach. The connection's network.allow_hosts,
	// when set, narrows it: a request must pass both lists. Without a
	// grant the plugin gets no outbound HTTP.
	HTTPHosts []string
	KV        bool
}

// OpenBuiltin opens builtin connectors only.
func OpenBuiltin(_ context.Context, c *config.Connection) (Opened, error) {
	b, ok := LookupBuiltin(c.Connector)
	if !ok {
		return Opened{}, fmt.Errorf("connector %q is not a builtin", c.Connector)
	}
	impl := b.New()
	return Opened{Connector: impl, Closer: closerOf(impl)}, nil
}

// closerOf returns impl as an io.Closer when it holds resources (an SSH
// session, pooled connections), else nil.
func closerOf(impl pluginsdk.Connector) io.Closer {
	if cl, ok := impl.(io.Closer); ok {
		return cl
	}
	return nil
}

// Conn is one configured connection.
type Conn struct {
	Config    *config.Connection
	Connector pluginsdk.Connector
	Spec      pluginsdk.Spec
	closer    io.Closer
	http      *host.HTTPClient

	// Auth is the auth the connector was configured with: the YAML's, or
	// credentials stored since (a rotated webhook key).
	Auth pluginsdk.Auth

	// gate is held for reading by each inbound push (Acquire), and for
	// writing by a reload retiring the connection (apply.go).
	gate    sync.RWMutex
	retired bool
}

// DedupWindow is how long a duplicate delivery of this connection is
// dropped: spec.dedup_window, or the connector config's dedup_window (where
// CONTRACT.md's Segment example puts it), or the store's default.
func (c *Conn) DedupWindow() time.Duration {
	if c.Config.DedupWindow > 0 {
		return c.Config.DedupWindow
	}
	// Read as the connector reads it (pluginsdk.Duration: "24h", "7d" or
	// seconds), so a window the connector accepted is the one applied.
	if v, ok := c.Config.Config["dedup_window"]; ok {
		var d pluginsdk.Duration
		if b, err := json.Marshal(v); err == nil && d.UnmarshalJSON(b) == nil && d > 0 {
			return time.Duration(d)
		}
	}
	return 0
}

// Name is the connection's name.
func (c *Conn) Name() string { return c.Config.Name }

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	Connections []*config.Connection
	Open        Opener
	Store       store.Store
	Logger      *slog.Logger
	// BaseURL is the hub's public URL, given to connectors for links.
	BaseURL string
	// AuthOverride, when set, may replace a connection's YAML auth with
	// credentials stored since (reconnect, a rotated webhook key).
	AuthOverride func(ctx context.Context, c *config.Connection, spec pluginsdk.Spec, yaml pluginsdk.Auth) (pluginsdk.Auth, error)
}

// Manager holds every configured connection.
type Manager struct {
	o     ManagerOptions
	log   *slog.Logger
	mu    sync.RWMutex
	conns map[string]*Conn
	// retired connectors wait out calls still in flight before closing.
	retired   sync.WaitGroup
	closing   chan struct{}
	closeOnce sync.Once
}

// NewManager opens and configures every connection. It fails on the first
// connection that cannot be opened or configured, naming it.
func NewManager(ctx context.Context, o ManagerOptions) (*Manager, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Open == nil {
		o.Open = OpenBuiltin
	}
	m := &Manager{o: o, conns: map[string]*Conn{}, log: o.Logger, closing: make(chan struct{})}
	for _, cc := range o.Connections {
		c, err := m.open(ctx, o, cc)
		if err != nil {
			m.Close()
			return nil, fmt.Errorf("connection %s (%s): %w", cc.Name, cc.Pos, err)
		}
		m.conns[cc.Name] = c
	}
	return m, nil
}

func (m *Manager) open(ctx context.Context, o ManagerOptions, cc *config.Connection) (*Conn, error) {
	opened, err := o.Open(ctx, cc)
	if err != nil {
		return nil, err
	}
	impl, closer := opened.Connector, opened.Closer
	cfg, err := json.Marshal(cc.Config)
	if err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	log := o.Logger.With("connection", cc.Name)
	hopts := host.HTTPOptions{
		AllowHosts: cc.Network.AllowHosts, AllowPrivate: cc.Network.AllowPrivate,
		Logger: log, Connection: cc.Name,
	}
	if g := opened.Grants; g != nil {
		hopts.Grant = &host.HostGrant{Plugin: g.Plugin, Hosts: g.HTTPHosts}
	}
	client := host.NewHTTPClient(hopts)
	var httpc pluginsdk.HTTPClient = client
	var kv pluginsdk.KV = host.NewKV(o.Store.KV(), cc.Name)
	if g := opened.Grants; g != nil {
		if len(g.HTTPHosts) == 0 {
			httpc = denied{fmt.Sprintf("plugin %s was not granted outbound HTTP (capabilities.http_hosts)", g.Plugin)}
		}
		if !g.KV {
			kv = denied{fmt.Sprintf("plugin %s was not granted the KV store (capabilities.kv)", g.Plugin)}
		}
	}
	pctx := &pluginsdk.Context{
		Connection: cc.Name,
		Config:     cfg,
		Auth:       yamlAuth(cc),
		BaseURL:    o.BaseURL,
		HTTP:       httpc,
		KV:         kv,
		Log:        log,
	}
	if o.AuthOverride != nil {
		a, err := o.AuthOverride(ctx, cc, impl.Spec(), pctx.Auth)
		if err != nil {
			if closer != nil {
				closer.Close()
			}
			return nil, fmt.Errorf("stored credentials: %w", err)
		}
		pctx.Auth = a
	}
	if err := impl.Configure(ctx, pctx); err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, fmt.Errorf("configure: %w", err)
	}
	return &Conn{Config: cc, Connector: impl, Spec: impl.Spec(), Auth: pctx.Auth, closer: closer, http: client}, nil
}

// Get returns the named connection.
func (m *Manager) Get(name string) (*Conn, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, ok := m.conns[name]
	return c, ok
}

// retireGrace is how long a replaced connector keeps serving the calls that
// had already taken it before it is closed.
const retireGrace = 2 * time.Minute

// Reconfigure opens the connection again (its auth passes through
// AuthOverride, which now finds the new credentials) and swaps it in. Calls
// already running finish on the old connector, which is closed after a
// grace period; configuring a connector that may be serving a call would
// race with it. Cursors and KV are keyed by connection name and survive.
func (m *Manager) Reconfigure(ctx context.Context, name string) error {
	old, ok := m.Get(name)
	if !ok {
		return fmt.Errorf("connection %q is not configured", name)
	}
	c, err := m.open(ctx, m.o, old.Config)
	if err != nil {
		return fmt.Errorf("connection %s: %w", name, err)
	}
	m.mu.Lock()
	m.conns[name] = c
	m.mu.Unlock()
	old.retire()
	m.closeLater(old)
	return nil
}

// All lists the connections by name.
func (m *Manager) All() []*Conn {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Conn, 0, len(m.conns))
	for _, c := range m.conns {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// Close releases every connection's connector. Connectors retired by
// Reconfigure are closed at once rather than after their grace period: by
// now the server and engine have drained.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() { close(m.closing) })
	m.retired.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, c := range m.conns {
		errs = append(errs, c.close())
	}
	return errors.Join(errs...)
}

func (c *Conn) close() error {
	c.http.CloseIdleConnections()
	if c.closer != nil {
		if err := c.closer.Close(); err != nil {
			return fmt.Errorf("close connection %s: %w", c.Name(), err)
		}
	}
	return nil
}

// Resolver resolves a task's `uses:` to a builtin task or a connection's
// action. Builtin task executors are built once, from the registry.
type Resolver struct {
	m       *Manager
	builtin map[string]task.Executor
}

// NewResolver builds every registered builtin task with env.
func NewResolver(m *Manager, env *task.Env) (*Resolver, error) {
	r := &Resolver{m: m, builtin: map[string]task.Executor{}}
	for _, d := range task.All() {
		ex, err := d.New(env)
		if err != nil {
			return nil, fmt.Errorf("builtin task %s: %w", d.ID, err)
		}
		r.builtin[d.ID] = ex
	}
	return r, nil
}

// Resolve implements workflow.Resolver.
func (r *Resolver) Resolve(uses string) (task.Executor, error) {
	if ex, ok := r.builtin[uses]; ok {
		return ex, nil
	}
	name, action, ok := strings.Cut(uses, ".")
	if !ok {
		return nil, fmt.Errorf("uses %q: want a builtin task or <connection>.<action>", uses)
	}
	if _, ok := r.m.Get(name); !ok {
		return nil, fmt.Errorf("uses %q: no builtin task of that name and no connection %q", uses, name)
	}
	ex, err := r.m.Action(name, action)
	if err != nil {
		return nil, fmt.Errorf("uses %q: %w", uses, err)
	}
	return ex, nil
}

func actionNames(s pluginsdk.Spec) string {
	names := make([]string, len(s.Actions))
	for i, a := range s.Actions {
		names[i] = a.Name
	}
	return strings.Join(names, ", ")
}

// denied refuses a host service a plugin was not granted.
type denied struct{ why string }

func (d denied) Do(context.Context, *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	return nil, &pluginsdk.Error{Code: "egress_denied", Message: d.why}
}

func (d denied) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, &pluginsdk.Error{Code: "kv_denied", Message: d.why}
}

func (d denied) Set(context.Context, string, []byte, time.Duration) error {
	return &pluginsdk.Error{Code: "kv_denied", Message: d.why}
}

func (d denied) Delete(context.Context, string) error {
	return &pluginsdk.Error{Code: "kv_denied", Message: d.why}
}
