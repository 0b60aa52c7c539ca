// Package hub assembles one Junction node from its configuration: the store,
// the connections, the workflow engine and the HTTP server, and runs them
// until its context ends, then shuts them down in the order that loses
// nothing (stop accepting, drain requests, drain runs, close the store).
package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/directory/directoryapi"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/schedule"
	"github.com/junctionhub/junction/core/server"
	"github.com/junctionhub/junction/core/server/console"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/core/workflow"
	"github.com/junctionhub/junction/pluginsdk"
)

// Options configures a hub. Empty fields take the Settings document's value,
// then the default.
type Options struct {
	ConfigPaths []string
	DataDir     string
	Addr        string
	// BuildPlugins builds bundled plugins whose artifact is missing or stale
	// (`junction up`); `junction serve` leaves it off.
	BuildPlugins bool
	// Out receives progress and the start-up banner.
	Out       io.Writer
	Logger    *slog.Logger
	LookupEnv func(string) (string, bool)
}

// Hub is one running Junction node.
type Hub struct {
	Settings config.Settings
	Bundle   *config.Bundle
	Store    store.Store
	Conns    *connector.Manager
	Engine   *workflow.Engine
	Server   *server.Server
	Plugins  *Plugins
	Stats    *stats.Recorder
	Fetch    *fetch.Runner
	Sched    *schedule.Scheduler
	Console  *console.Console
	// Expiry removes what retention says is old; it runs while the hub runs.
	Expiry *store.Expirer
	// NewAdminToken is set when this start created the admin token; it is
	// shown once and only its hash is stored.
	NewAdminToken string

	o      Options
	log    *slog.Logger
	ln     net.Listener
	badger *store.Badger
}

// Open loads the configuration and opens everything, but serves nothing yet.
func Open(ctx context.Context, o Options) (_ *Hub, err error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if len(o.ConfigPaths) == 0 {
		o.ConfigPaths = []string{"configs"}
	}
	h := &Hub{o: o, log: o.Logger}
	defer func() {
		if err != nil {
			h.closeAll()
		}
	}()

	// Settings first: they say where the data dir and plugins are.
	pre, err := config.Load(o.ConfigPaths, config.Options{LookupEnv: o.LookupEnv})
	if err != nil {
		return nil, err
	}
	h.Settings = pre.Settings
	if o.DataDir != "" {
		h.Settings.DataDir = o.DataDir
	}
	if o.Addr != "" {
		h.Settings.Addr = o.Addr
	}
	if err := os.MkdirAll(h.Settings.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", h.Settings.DataDir, err)
	}
	h.Plugins, err = OpenPlugins(ctx, PluginOptions{
		DataDir: h.Settings.DataDir, Dirs: h.Settings.PluginDirs,
		Build: o.BuildPlugins, Progress: o.Out, Logger: o.Logger, Settings: h.Settings,
	})
	if err != nil {
		return nil, err
	}
	h.Bundle, err = config.Load(o.ConfigPaths, config.Options{LookupEnv: o.LookupEnv, Check: h.Plugins.Checker()})
	if err != nil {
		return nil, err
	}
	for _, w := range h.Bundle.Warnings {
		h.log.Warn("config", "warning", w.Error())
	}

	// The secrets key lives in the data dir itself (JUNCTION_SECRET_KEY wins),
	// beside, not inside, the Badger files.
	key, err := store.LoadSecretKey(h.Settings.DataDir)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, filepath.Join(h.Settings.DataDir, "badger"), store.Options{
		Logger: o.Logger, SecretKey: key, MinFreeBytes: h.Settings.Retention.MinFreeBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", h.Settings.DataDir, err)
	}
	h.Store = st
	h.badger = st

	hash, tok, err := adminToken(ctx, st.KV(), o.LookupEnv)
	if err != nil {
		return nil, err
	}
	h.NewAdminToken = tok

	publicURL := h.Settings.PublicURL
	h.Conns, err = connector.NewManager(ctx, connector.ManagerOptions{
		Connections: h.Bundle.Connections, Open: h.Plugins.Open, Store: st, Logger: o.Logger, BaseURL: publicURL,
		AuthOverride: func(ctx context.Context, c *config.Connection, spec pluginsdk.Spec, yaml pluginsdk.Auth) (pluginsdk.Auth, error) {
			return storedAuth(ctx, st.Secrets(), c, spec, yaml)
		},
	})
	if err != nil {
		return nil, err
	}
	tz, err := time.LoadLocation(h.Settings.Timezone)
	if err != nil {
		return nil, fmt.Errorf("settings timezone %q: %w", h.Settings.Timezone, err)
	}
	// One directory service for the tasks, the API and the console: they
	// share its locks.
	dirs := directory.New(st, h.Bundle.Directories)
	env := &task.Env{
		Logger: o.Logger, Events: st.Log(), Secrets: st.Secrets(),
		Contacts: dirs, Distributions: dirs, Connections: h.Conns.ForTasks(),
		Location: tz, Surveys: h.Bundle.Surveys,
	}
	resolver, err := connector.NewResolver(h.Conns, env)
	if err != nil {
		return nil, err
	}
	metrics := server.NewMetrics(st, func() uint64 {
		if h.Engine == nil {
			return 0
		}
		return h.Engine.Lag()
	})
	h.Engine, err = workflow.New(workflow.Options{
		Store: st, Workflows: h.Bundle.Workflows, Resolver: resolver, Logger: o.Logger,
		Workers: h.Settings.Workers, Retry: h.Settings.Retry, Observer: metrics,
	})
	if err != nil {
		return nil, err
	}
	loc, _ := time.LoadLocation(h.Settings.Timezone)
	h.Stats, err = stats.Open(ctx, stats.Options{KV: st.KV(), Location: loc, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	for _, c := range h.Bundle.Connections {
		h.Stats.Connected(c.Name, time.Now())
	}
	h.Fetch, err = fetch.New(ctx, fetch.Options{Store: st, Lookup: h.Conns.Get, Observer: h.Stats, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	h.Sched = schedule.New(schedule.Options{KV: st.KV(), Timezone: h.Settings.Timezone, Logger: o.Logger})
	if err := h.Sched.AddConnections(ctx, h.Bundle.Connections, h.Fetch); err != nil {
		return nil, err
	}
	if err := h.Sched.AddWorkflows(ctx, h.Bundle.Workflows, scheduledStarter{h.Engine}); err != nil {
		return nil, err
	}
	known := func(n string) bool { _, ok := h.Conns.Get(n); return ok }
	h.Console, err = console.New(console.Options{
		Store: st, Engine: h.Engine, Bundle: h.Bundle, Connections: h.Conns,
		AdminTokenHash: hash, Logger: o.Logger, PublicURL: publicURL,
		Directory: directoryapi.Console(dirs),
		Stats:     newConsoleStats(h.Stats, st.Log(), loc),
		Ops:       consoleOps{fetch: h.Fetch, conns: h.Conns},
		Plugins:   consolePlugins{h.Plugins.Registry()},
	})
	if err != nil {
		return nil, err
	}
	tlsConfig, err := serverTLS(h.Settings, h.Bundle.Connections)
	if err != nil {
		return nil, err
	}
	h.Server = server.New(server.Options{
		TLS: tlsConfig, TrustedProxies: h.Settings.TrustedProxies,
		Store: st, Connections: h.Conns, Engine: h.Engine, Bundle: h.Bundle, AdminTokenHash: hash,
		MaxBodyBytes: h.Settings.MaxBodyBytes, PublicURL: publicURL, Metrics: metrics, Logger: o.Logger,
		Mount: h.Console.Mount,
		OnAppended: func(reqs []store.AppendRequest, results []store.AppendResult) {
			h.Stats.ObserveAppended(reqs, results, time.Now())
		},
		APIRoutes: []func(fiber.Router){
			func(api fiber.Router) { directoryapi.Routes(api, dirs) },
			func(api fiber.Router) {
				fetch.Routes(api, &fetch.API{
					Runner: h.Fetch, Store: st, Logger: o.Logger,
					// The new credentials or key are stored by now; reopening the
					// connection reads them through AuthOverride.
					Reconfigure: func(ctx context.Context, name string, _ pluginsdk.Auth) error { return h.Conns.Reconfigure(ctx, name) },
					KeyRotated:  func(ctx context.Context, name, _ string) error { return h.Conns.Reconfigure(ctx, name) },
				})
			},
			func(api fiber.Router) { stats.Routes(api, h.Stats, st.Log(), known) },
			func(api fiber.Router) { schedule.Routes(api, h.Sched) },
			pluginRoutes(h.Plugins.Registry(), h.Conns),
			func(api fiber.Router) { api.Get("/status", h.status) },
		},
	})
	return h, nil
}

// serverTLS is the listener's TLS configuration, or nil when Settings give
// no tls.
func serverTLS(s config.Settings, conns []*config.Connection) (*tls.Config, error) {
	if s.TLS == nil {
		return nil, nil
	}
	return server.NewTLSConfig(s.TLS, conns)
}

// Listen binds the server's address (":0" picks a free port).
func (h *Hub) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", h.Settings.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", h.Settings.Addr, err)
	}
	h.ln = ln
	return ln.Addr(), nil
}

// Run starts the engine and serves until ctx ends, then shuts down
// gracefully: in-flight requests finish (their events are stored and acked,
// or not acked at all), running tasks finish their attempt, the store closes.
func (h *Hub) Run(ctx context.Context) error {
	if h.ln == nil {
		if _, err := h.Listen(); err != nil {
			return err
		}
	}
	if err := h.Engine.Start(ctx); err != nil {
		return fmt.Errorf("start workflow engine: %w", err)
	}
	if err := h.Sched.Start(ctx); err != nil {
		return err
	}
	h.startExpiry()
	errc := make(chan error, 1)
	go func() { errc <- h.Server.Serve(h.ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	h.log.Info("shutting down")
	// A console page waiting to capture the next event would hold up the
	// HTTP drain; release it first.
	h.Console.Close()
	// Requests being handled finish within this budget (an append takes
	// milliseconds). What can outlast it is a keep-alive connection caught
	// in a header read: nothing on it was received, so nothing on it can
	// have been acknowledged, and the shutdown goes on without it.
	sctx, cancel := context.WithTimeout(context.Background(), httpDrain)
	defer cancel()
	if err := h.Server.Shutdown(sctx); err != nil {
		h.log.Warn("http shutdown: connections still open after the drain period; closing anyway", "drain", httpDrain, "err", err)
	}
	h.Sched.Close()
	h.Fetch.Close()
	h.Engine.Close()
	h.stopExpiry()
	return errors.Join(serveErr, h.Stats.Close(), h.closeAll())
}

// Close releases everything Open opened (for a hub that never ran).
func (h *Hub) Close() error {
	if h.Engine != nil {
		h.Engine.Close()
	}
	h.stopExpiry()
	return h.closeAll()
}

func (h *Hub) closeAll() error {
	var errs []error
	if h.Conns != nil {
		errs = append(errs, h.Conns.Close())
		h.Conns = nil
	}
	if h.Plugins != nil {
		errs = append(errs, h.Plugins.Close())
		h.Plugins = nil
	}
	if h.Store != nil {
		errs = append(errs, h.Store.Close())
		h.Store = nil
	}
	return errors.Join(errs...)
}

const adminTokenKey = "admin/token-sha256"

// httpDrain bounds how long shutdown waits for HTTP connections.
const httpDrain = 10 * time.Second

// adminToken returns the hash of the admin token. JUNCTION_ADMIN_TOKEN wins;
// otherwise the stored hash; otherwise a new token is made, its hash stored,
// and the token returned once for printing.
func adminToken(ctx context.Context, kv store.KV, env func(string) (string, bool)) ([32]byte, string, error) {
	var hash [32]byte
	if tok, ok := env("JUNCTION_ADMIN_TOKEN"); ok && tok != "" {
		hash = sha256.Sum256([]byte(tok))
		if err := kv.Set(ctx, adminTokenKey, hash[:], 0); err != nil {
			return hash, "", fmt.Errorf("store admin token hash: %w", err)
		}
		return hash, "", nil
	}
	v, err := kv.Get(ctx, adminTokenKey)
	if err == nil && len(v) == len(hash) {
		copy(hash[:], v)
		return hash, "", nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return hash, "", fmt.Errorf("read admin token hash: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return hash, "", fmt.Errorf("generate admin token: %w", err)
	}
	tok := "jct_" + base64.RawURLEncoding.EncodeToString(b)
	hash = sha256.Sum256([]byte(tok))
	if err := kv.Set(ctx, adminTokenKey, hash[:], 0); err != nil {
		return hash, "", fmt.Errorf("store admin token hash: %w", err)
	}
	return hash, tok, nil
}

// storedAuth applies credentials stored after the YAML was written: those of
// `junction connection reconnect`, and a webhook key rotated through the API,
// which replaces the key of a connection that receives pushes with an API
// key (other connections keep theirs: the key is only shown).
func storedAuth(ctx context.Context, secrets store.Secrets, c *config.Connection, spec pluginsdk.Spec, yaml pluginsdk.Auth) (pluginsdk.Auth, error) {
	if a, ok, err := fetch.ReconnectAuth(ctx, secrets, c.Name); err != nil {
		return yaml, err
	} else if ok {
		yaml = *a
	}
	if key, ok, err := fetch.WebhookKey(ctx, secrets, c.Name); err != nil {
		return yaml, err
	} else if ok && spec.HasRole(pluginsdk.RoleReceive) && yaml.Type == pluginsdk.AuthAPIKey {
		yaml.Secret = key
	}
	return yaml, nil
}

// scheduledStarter starts schedule-triggered workflows with the scheduler's
// payload ({"scheduledAt", "workflow"}).
type scheduledStarter struct{ e *workflow.Engine }

func (s scheduledStarter) StartScheduled(ctx context.Context, wf string, at time.Time) error {
	_, err := s.e.Trigger(ctx, wf, schedule.WorkflowPayload(wf, at))
	return err
}
