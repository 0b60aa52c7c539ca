// Package hub assembles one Junction node from its configuration: the store,
// the connections, the workflow engine and the HTTP server, and runs them
// until its context ends, then shuts them down in the order that loses
// nothing (stop accepting, drain requests, drain runs, close the store).
//
// Each subsystem has a constructor in a file of its own (config.go,
// store.go, connections.go, alerts.go, tap.go, engine.go, stats.go,
// schedule.go, expiry.go, console.go, server.go) that takes what it needs
// and returns what it offers; Open calls them in dependency order, and
// Close undoes them in the reverse order.
package hub

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/junctionhub/junction/core/alert"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/schedule"
	"github.com/junctionhub/junction/core/server"
	"github.com/junctionhub/junction/core/server/console"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/tap"
	"github.com/junctionhub/junction/core/workflow"
)

// Options configures a hub. Empty fields take the Settings document's value,
// then the default.
type Options struct {
	ConfigPaths []string
	DataDir     string
	Addr        string
	// Store, when set, overrides Settings' store: "badger" or a NATS URL
	// (the --store flag).
	Store string
	// BuildPlugins builds bundled plugins whose artifact is missing or stale
	// (`junction up`); `junction serve` leaves it off.
	BuildPlugins bool
	// Out receives progress and the start-up banner.
	Out       io.Writer
	Logger    *slog.Logger
	LookupEnv func(string) (string, bool)
}

func (o Options) withDefaults() Options {
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
	return o
}

// Hub is one running Junction node.
type Hub struct {
	Settings config.Settings
	// Bundle is the configuration loaded at start; after a hot reload the
	// running one is CurrentBundle.
	Bundle  *config.Bundle
	Store   store.Store
	Conns   *connector.Manager
	Engine  *workflow.Engine
	Server  *server.Server
	Plugins *Plugins
	Stats   *stats.Recorder
	Fetch   *fetch.Runner
	Sched   *schedule.Scheduler
	Console *console.Console
	Alerts  *alert.Engine
	// Tap is the live tap: events and finished runs, for whoever watches.
	Tap *tap.Broker
	// NewAdminToken is set when this start created the admin token; it is
	// shown once and only its hash is stored.
	NewAdminToken string

	o      Options
	log    *slog.Logger
	ln     net.Listener
	engine engine // the store, with its usage and expiry
	expiry *expiry
	reload *reloader
	lagOf  atomic.Pointer[workflow.Engine]
	shared *clusterPlugins // installed plugins synced across a cluster; nil on Badger
	closed bool
}

// Open loads the configuration and opens everything, but serves nothing yet.
// Each step builds one subsystem from those before it; when a step fails,
// Close releases what the steps before it built.
func Open(ctx context.Context, o Options) (_ *Hub, err error) {
	o = o.withDefaults()
	h := &Hub{o: o, log: o.Logger}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	if h.Settings, err = loadSettings(o); err != nil {
		return nil, err
	}
	if h.Plugins, err = openPlugins(ctx, o, h.Settings); err != nil {
		return nil, err
	}
	if h.shared, err = openClusterPlugins(ctx, h.Settings, h.Plugins, o.Logger); err != nil {
		return nil, err
	}
	var digest string
	if h.Bundle, digest, err = loadBundle(o, h.Plugins.Checker()); err != nil {
		return nil, err
	}
	if h.engine, err = openStore(ctx, h.Settings, o.Logger); err != nil {
		return nil, err
	}
	h.Store = h.engine
	adminHash, tok, err := adminToken(ctx, h.Store.KV(), o.LookupEnv)
	if err != nil {
		return nil, err
	}
	h.NewAdminToken = tok
	if h.reload, err = newReloader(ctx, h.Store.KV(), h.Bundle, digest, time.Now()); err != nil {
		return nil, err
	}
	if h.Conns, err = openConnections(ctx, h.Bundle, h.Plugins, h.Store, h.Settings.PublicURL, o.Logger); err != nil {
		return nil, err
	}
	// One directory service for the tasks, the API and the console: they
	// share its locks.
	dirs := directory.New(h.Store, h.Bundle.Directories)
	metrics := server.NewMetrics(h.Store, nil)
	h.reload.h, h.reload.dirs = h, dirs
	h.Tap = newTap()
	if h.Alerts, err = newAlerts(ctx, h.Bundle, h.Store.KV(), h.Conns, h.lag, metrics, o.Logger); err != nil {
		return nil, err
	}
	if h.Engine, err = newEngine(h.Settings, h.Bundle, h.reload.Version().Counter, h.Store, h.Conns, dirs, engineObserver{metrics, h.Alerts, h.Tap}, o.Logger); err != nil {
		return nil, err
	}
	h.lagOf.Store(h.Engine)
	// A reload swaps the alerts with the rest of the set (reload.go).
	h.reload.appliers = append(h.reload.appliers, func(ctx context.Context, b *config.Bundle) error {
		return h.Alerts.Replace(ctx, b.Alerts)
	})
	if h.Stats, err = openStats(ctx, h.Settings, h.Bundle.Connections, h.Store.KV(), o.Logger); err != nil {
		return nil, err
	}
	if h.Fetch, err = fetch.New(ctx, fetch.Options{Store: h.Store, Lookup: h.Conns.Get, Observer: fetchObserver{h.Stats, h.Tap}, JobDone: fetchJobDone(h.Alerts), Logger: o.Logger}); err != nil {
		return nil, err
	}
	if h.Sched, err = newScheduler(ctx, h.Settings, h.Bundle, h.Store.KV(), h.Fetch, h.Engine, scheduleMissed(h.Alerts), o.Logger); err != nil {
		return nil, err
	}
	h.expiry = newExpiry(h.engine, h.Settings.Retention, h.Engine.Cursor)
	tapAPI := newTapAPI(h)
	if h.Console, err = newConsole(h, dirs, adminHash, tapAPI); err != nil {
		return nil, err
	}
	if h.Server, err = newServer(h, dirs, adminHash, metrics, tapAPI); err != nil {
		return nil, err
	}
	return h, nil
}

// lag is the dispatcher's log lag once the engine exists. The alerts,
// built before it, poll it from their own goroutine, hence lagOf.
func (h *Hub) lag() uint64 {
	e := h.lagOf.Load()
	if e == nil {
		return 0
	}
	return e.Lag()
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

// httpDrain bounds how long shutdown waits for HTTP connections.
const httpDrain = 10 * time.Second

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
	h.expiry.Start()
	h.Alerts.Start(ctx)
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
	// Live tap streams last until their client goes; end them too.
	h.Tap.Close()
	// Requests being handled finish within this budget (an append takes
	// milliseconds). What can outlast it is a keep-alive connection caught
	// in a header read: nothing on it was received, so nothing on it can
	// have been acknowledged, and the shutdown goes on without it.
	sctx, cancel := context.WithTimeout(context.Background(), httpDrain)
	defer cancel()
	if err := h.Server.Shutdown(sctx); err != nil {
		h.log.Warn("http shutdown: connections still open after the drain period; closing anyway", "drain", httpDrain, "err", err)
	}
	return errors.Join(serveErr, h.Close())
}

// Close releases what Open built, in the reverse order of Open: what uses a
// subsystem stops before it does (the scheduler before the fetch runner and
// the engine, everything before the store). Run calls it once the HTTP
// server has drained; call it for a hub that never ran. A part that Open
// did not get to is nil and skipped; a second Close does nothing.
func (h *Hub) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	if h.reload != nil {
		h.reload.close()
	}
	if h.Console != nil {
		h.Console.Close()
	}
	if h.Tap != nil {
		h.Tap.Close()
	}
	var errs []error
	for _, step := range []struct {
		name  string
		built bool
		close func() error
	}{
		{"expiry", h.expiry != nil, h.expiry.Close},
		{"scheduler", h.Sched != nil, h.Sched.Close},
		{"fetch runner", h.Fetch != nil, h.Fetch.Close},
		{"stats", h.Stats != nil, h.Stats.Close},
		{"workflow engine", h.Engine != nil, func() error { h.Engine.Close(); return nil }},
		{"alerts", h.Alerts != nil, h.Alerts.Close},
		{"connections", h.Conns != nil, h.Conns.Close},
		{"store", h.engine != nil, func() error { return h.engine.Close() }},
		{"plugin sync", h.shared != nil, h.shared.Close},
		{"plugins", h.Plugins != nil, h.Plugins.Close},
	} {
		if !step.built {
			continue
		}
		if err := step.close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", step.name, err))
		}
	}
	return errors.Join(errs...)
}
