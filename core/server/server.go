package server

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/internal/apierror"
	"github.com/junctionhub/junction/core/server/internal/faillimit"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
)

// Options configures a Server.
type Options struct {
	Store       store.Store
	Connections *connector.Manager
	// Engine tells how far dispatch lags the log (/readyz, /metrics).
	Engine *workflow.Engine
	// AdminTokenHash is the SHA-256 of the admin bearer token.
	AdminTokenHash [32]byte
	// MaxBodyBytes limits every request body, and a push's body after
	// decompression too (default 1 MiB).
	MaxBodyBytes int64
	// PublicURL is the hub's URL as callers see it (signatures that cover the
	// URL, links); default http://<addr>.
	PublicURL string
	Metrics   *Metrics
	// OnAppended, when set, is told about every push that was stored (the
	// data overview counts records from it).
	OnAppended func(reqs []store.AppendRequest, results []store.AppendResult)
	Logger     *slog.Logger
	// APIs are the domains' routes in the authenticated /api/v1 group.
	APIs APIs
	// Console, when set, is served at "/" after the API (a
	// *console.Console).
	Console Console
	// TLS, when set, makes Serve speak HTTPS (see NewTLSConfig).
	TLS *tls.Config
	// TrustedProxies are the peers whose X-Forwarded-For is believed when a
	// connection's inbound.allow_ips is checked.
	TrustedProxies []netip.Prefix
}

// Server is Junction's HTTP server.
type Server struct {
	o     Options
	app   *fiber.App
	log   *slog.Logger
	ready atomic.Bool
	// guards holds the inbound rate limits' buckets (guard.go).
	guards guardState
	// tokenFails counts wrong admin bearer tokens per client address.
	tokenFails *faillimit.Limiter
}

// New builds the server and its routes.
func New(o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(o.Store, o.Engine.Lag)
	}
	s := &Server{o: o, log: o.Logger, tokenFails: faillimit.New(tokenFailures, tokenWindow, nil)}
	s.app = fiber.New(fiber.Config{
		AppName:               "junction",
		DisableStartupMessage: true,
		// fasthttp resets the connection when a body passes BodyLimit, and a
		// client still writing then sees "connection reset", not a 413. So
		// fasthttp reads up to a hard cap and limitBody answers 413 for
		// anything over the configured limit; only past the cap is a
		// connection dropped.
		BodyLimit:    int(max(4*o.MaxBodyBytes, 16<<20)),
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  120 * time.Second,
		ErrorHandler: s.errorHandler,
	})
	// During shutdown, answers carry Connection: close, so keep-alive
	// clients let go of their connections and the drain is not held open.
	s.app.Server().CloseOnShutdown = true
	s.routes()
	return s
}

// App exposes the fiber app (tests use app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Metrics returns the server's metrics (the engine reports to them).
func (s *Server) Metrics() *Metrics { return s.o.Metrics }

func (s *Server) routes() {
	app := s.app
	// cors first: a 413 of limitBody to an allowed page carries the grant.
	app.Use(s.cors)
	app.Use(s.limitBody)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", s.readyz)
	app.Get("/metrics", s.o.Metrics.Handler())
	app.All("/hooks/:connection", s.hook)
	app.All("/hooks/:connection/*", s.hook)

	api := app.Group("/api/v1", s.requireToken)
	s.o.APIs.routes(api)
	if s.o.Console != nil {
		s.o.Console.Mount(app)
	}
	app.Use(func(c *fiber.Ctx) error {
		return apiError(c, fiber.StatusNotFound, "not_found", fmt.Sprintf("no route %s %s", c.Method(), c.Path()), nil)
	})
}

// Serve listens on ln until Shutdown, speaking HTTPS when Options.TLS is
// set.
func (s *Server) Serve(ln net.Listener) error {
	if s.o.TLS != nil {
		ln = tls.NewListener(ln, s.o.TLS)
	}
	s.ready.Store(true)
	return s.app.Listener(ln)
}

// Shutdown stops accepting connections and waits for in-flight requests
// (each is either fully stored and answered, or not acknowledged at all).
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	deadline, ok := ctx.Deadline()
	if !ok {
		return s.app.Shutdown()
	}
	return s.app.ShutdownWithTimeout(time.Until(deadline))
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if !s.ready.Load() {
		return apiError(c, fiber.StatusServiceUnavailable, "not_ready", "starting or shutting down", nil)
	}
	// A store that refuses writes (disk full) cannot acknowledge anything:
	// a balancer should send pushes elsewhere until space returns.
	if ws, ok := s.o.Store.(interface{ WriteError() error }); ok {
		if err := ws.WriteError(); err != nil {
			c.Set(fiber.HeaderRetryAfter, "5")
			return apiError(c, fiber.StatusServiceUnavailable, "disk_full", err.Error(), nil)
		}
	}
	if ch, ok := s.o.Store.(clusterHealther); ok {
		return s.readyCluster(c, ch)
	}
	return c.JSON(fiber.Map{"status": "ready", "logLag": s.o.Engine.Lag()})
}

// limitBody refuses a body over MaxBodyBytes with a JSON 413 before any
// handler parses or stores it.
func (s *Server) limitBody(c *fiber.Ctx) error {
	if int64(len(c.Request().Body())) > s.o.MaxBodyBytes {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

// Wrong admin tokens allowed from one address within tokenWindow before
// the API refuses it (429) until the window ends, as the console's login
// form does: the token is long and random, so this is not what keeps it
// safe, it keeps a script from guessing at full speed.
const (
	tokenFailures = 10
	tokenWindow   = 10 * time.Minute
)

// requireToken checks `Authorization: Bearer <token>` in constant time
// against the stored hash (comparing digests keeps the length secret too).
// An address that sent too many wrong tokens is refused before the check,
// so guessing stops even when a guess would be right.
func (s *Server) requireToken(c *fiber.Ctx) error {
	ip := c.IP()
	if blocked, left := s.tokenFails.Blocked(ip); blocked {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(left.Seconds())+1))
		s.log.Warn("api token refused: too many failures", "ip", ip)
		return apiError(c, fiber.StatusTooManyRequests, "too_many_failures",
			fmt.Sprintf("too many wrong admin tokens from your address; retry after %d seconds", int(left.Seconds())+1), nil)
	}
	h := c.Get(fiber.HeaderAuthorization)
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || tok == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="junction"`)
		return apiError(c, fiber.StatusUnauthorized, "unauthorized", "missing bearer token: send Authorization: Bearer <admin token>", nil)
	}
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], s.o.AdminTokenHash[:]) != 1 {
		s.tokenFails.Fail(ip)
		return apiError(c, fiber.StatusUnauthorized, "unauthorized", "invalid admin token", nil)
	}
	s.tokenFails.Succeed(ip)
	return c.Next()
}

// errorHandler renders errors fiber raises itself (body too large, timeouts)
// in the API's JSON shape.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code := "error"
		switch fe.Code {
		case fiber.StatusRequestEntityTooLarge:
			code = "body_too_large"
			s.o.Metrics.rejected(hookConnection(c.Path()), code)
			return apiError(c, fe.Code, code, fmt.Sprintf("request body is larger than the limit of %d bytes", s.o.MaxBodyBytes), nil)
		case fiber.StatusNotFound:
			code = "not_found"
		case fiber.StatusMethodNotAllowed:
			code = "method_not_allowed"
		case fiber.StatusRequestTimeout:
			code = "timeout"
		}
		return apiError(c, fe.Code, code, fe.Message, nil)
	}
	s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	return apiError(c, fiber.StatusInternalServerError, "internal", err.Error(), nil)
}

func apiError(c *fiber.Ctx, status int, code, msg string, details any) error {
	return apierror.Write(c, status, code, msg, details)
}

// hookConnection returns the connection name of a /hooks/{connection} path,
// or "" (middleware runs before route parameters are parsed).
func hookConnection(path string) string {
	rest, ok := strings.CutPrefix(path, "/hooks/")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, "/")
	return strings.Clone(name)
}
