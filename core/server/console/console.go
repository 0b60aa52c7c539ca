package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
)

// Options configures a Console. Store, Engine, Bundle and Connections are
// required; Plugins, Alerts, Stats, Ops and Directory may be nil (their sections then
// say "not available yet").
type Options struct {
	Store       store.Store
	Engine      *workflow.Engine
	Bundle      *config.Bundle
	Connections *connector.Manager
	// Current, when set, returns the running configuration instead of
	// Bundle (it changes with a hot reload).
	Current func() *config.Bundle
	// ConfigVersion, when set, is the running configuration's version,
	// shown in every page's header.
	ConfigVersion func() config.Version
	// AdminTokenHash is the SHA-256 of the admin token; logging in means
	// posting that token.
	AdminTokenHash [32]byte
	Logger         *slog.Logger
	// PublicURL is the hub's URL as senders see it, for the hook URLs shown
	// on connections; default: the URL the console was reached at.
	PublicURL string
	// Node is the name of the node serving the console (Settings
	// store.node), shown in every page's header: behind a balancer, pages
	// of one cluster come from different nodes.
	Node string

	Plugins   Plugins
	Alerts    Alerts
	Stats     Stats
	Ops       Operations
	Directory Directory

	// Tap, when set, answers a live view's event stream (the API's
	// tapapi.API.Stream): exactly one of connection and workflow is set.
	Tap func(c *fiber.Ctx, connection, workflow string) error

	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// CaptureTimeout bounds "capture next event" (default 60s).
	CaptureTimeout time.Duration
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Console is the operator web console.
type Console struct {
	o        Options
	log      *slog.Logger
	loc      *time.Location
	pages    *pages
	sessions *sessions
	logins   *loginLimiter
	static   *staticFiles

	// closing ends requests that wait (capture next event) when the hub
	// shuts down, so they do not hold the server's graceful shutdown.
	closing context.Context
	close   context.CancelFunc
}

// New builds the console. It starts no goroutine; Close ends requests that
// are waiting for an event.
func New(o Options) (*Console, error) {
	if o.Store == nil || o.Engine == nil || o.Bundle == nil || o.Connections == nil {
		return nil, errors.New("console.New: Store, Engine, Bundle and Connections are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.CaptureTimeout <= 0 {
		o.CaptureTimeout = 60 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	loc := time.UTC
	if tz := o.Bundle.Settings.Timezone; tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, fmt.Errorf("console: org time zone %q: %w", tz, err)
		}
		loc = l
	}
	con := &Console{o: o, log: o.Logger.With("component", "console"), loc: loc}
	var err error
	if con.pages, err = loadPages(con.funcs()); err != nil {
		return nil, err
	}
	if con.static, err = loadStatic(); err != nil {
		return nil, err
	}
	con.sessions = newSessions(o.Store.KV(), o.AdminTokenHash, o.SessionTTL, o.Now)
	con.logins = newLoginLimiter(o.Now)
	con.closing, con.close = context.WithCancel(context.Background())
	return con, nil
}

// Close makes requests that wait for an event return at once. Call it
// before shutting the HTTP server down.
func (con *Console) Close() { con.close() }

// Mount adds the console's routes to app (the server calls it when the
// console is its Options.Console). Every page needs a session; every POST
// also needs the session's CSRF token. Routes are added one by one, not
// with a catch-all middleware, so the API, the hooks and the server's 404
// stay as they are.
func (con *Console) Mount(app *fiber.App) {
	app.Get("/static/:file", con.static.serve)
	app.Get("/login", con.loginPage)
	app.Post("/login", con.login)
	app.Post("/logout", con.requireSession, con.checkCSRF, con.logout)

	get := func(path string, h fiber.Handler) { app.Get(path, con.requireSession, h) }
	post := func(path string, h fiber.Handler) { app.Post(path, con.requireSession, con.checkCSRF, h) }

	get("/", func(c *fiber.Ctx) error { return c.Redirect("/runs", fiber.StatusSeeOther) })
	get("/runs", con.runsPage)
	get("/runs/:id", con.runPage)
	post("/runs/:id/replay", con.replay)

	get("/workflows", con.workflowsPage)
	get("/workflows/:name", con.workflowPage)
	post("/workflows/:name/test", con.testData)
	post("/workflows/:name/capture", con.capture)

	get("/connections", con.connectionsPage)
	get("/connections/:name", con.connectionPage)
	get("/connections/:name/json", con.connectionJSON)
	get("/connections/:name/entities/:entity", con.entityPage)
	get("/connections/:name/entities/:entity/fields/:field", con.fieldPage)
	post("/connections/:name/setup", con.revealSetup)
	for _, op := range []string{"fetch", "metadata", "reconnect"} {
		post("/connections/:name/"+op, con.connectionOp(op))
	}

	get("/connections/:name/tap", con.tapConnection)
	get("/workflows/:name/tap", con.tapWorkflow)

	get("/plugins", con.pluginsPage)
	get("/alerts", con.alertsPage)

	get("/directory", con.directoryPage)
	get("/directory/contacts/:id", con.contactPage)
}

// notFound renders the console's 404 page.
func (con *Console) notFound(c *fiber.Ctx, what string) error {
	v := &errorView{Message: what}
	v.Title = "Not found"
	return con.render(c, fiber.StatusNotFound, "error", v)
}

// isNotFound tells whether a source reported "no such thing".
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// bundle is the running configuration.
func (con *Console) bundle() *config.Bundle {
	if con.o.Current != nil {
		return con.o.Current()
	}
	return con.o.Bundle
}
