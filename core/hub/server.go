package hub

import (
	"context"
	"crypto/tls"
	"time"

	"github.com/junctionhub/junction/core/alert/alertapi"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/config/configapi"
	"github.com/junctionhub/junction/core/connector/connectorapi"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/directory/directoryapi"
	"github.com/junctionhub/junction/core/fetch/fetchapi"
	"github.com/junctionhub/junction/core/openapi"
	"github.com/junctionhub/junction/core/plugin/pluginapi"
	"github.com/junctionhub/junction/core/schedule/scheduleapi"
	"github.com/junctionhub/junction/core/server"
	"github.com/junctionhub/junction/core/stats/statsapi"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/storeapi"
	"github.com/junctionhub/junction/core/tap/tapapi"
	"github.com/junctionhub/junction/core/workflow/workflowapi"
	"github.com/junctionhub/junction/pluginsdk"
)

// newServer builds the HTTP server over everything Open built before it:
// the hooks, each domain's API and the console. It comes last.
func newServer(h *Hub, dirs *directory.Service, adminHash [32]byte, metrics *server.Metrics, tapAPI *tapapi.API) (*server.Server, error) {
	tlsConfig, err := serverTLS(h.Settings, h.Bundle.Connections)
	if err != nil {
		return nil, err
	}
	// Each node of a cluster serves its own /metrics; this names it.
	metrics.RegisterNode(h.Settings.Store.NodeName(), h.Settings.Store.Type)
	reconfigure := func(ctx context.Context, name string) error { return h.Conns.Reconfigure(ctx, name) }
	return server.New(server.Options{
		TLS: tlsConfig, TrustedProxies: h.Settings.TrustedProxies,
		Store: h.Store, Connections: h.Conns, Engine: h.Engine, AdminTokenHash: adminHash,
		MaxBodyBytes: h.Settings.MaxBodyBytes, PublicURL: h.Settings.PublicURL, Metrics: metrics, Logger: h.log,
		Console: h.Console,
		OnAppended: func(reqs []store.AppendRequest, results []store.AppendResult) {
			now := time.Now()
			h.Stats.ObserveAppended(reqs, results, now)
			h.Tap.PublishAppended(reqs, results, now)
		},
		APIs: server.APIs{
			Workflows:   &workflowapi.API{Bundle: h.Bundle, Current: h.CurrentBundle, Engine: h.Engine, Store: h.Store},
			Connections: &connectorapi.API{Connections: h.Conns, PublicURL: h.Settings.PublicURL},
			Events:      &storeapi.Events{Log: h.Store.Log()},
			Directory:   &directoryapi.API{Directory: dirs},
			Fetch: &fetchapi.API{
				Runner: h.Fetch, Store: h.Store, Logger: h.log,
				// The new credentials or key are stored by now; reopening the
				// connection reads them through AuthOverride.
				Reconfigure: func(ctx context.Context, name string, _ pluginsdk.Auth) error { return reconfigure(ctx, name) },
				KeyRotated:  func(ctx context.Context, name, _ string) error { return reconfigure(ctx, name) },
			},
			Stats:     &statsapi.API{Recorder: h.Stats, Log: h.Store.Log(), Known: func(n string) bool { _, ok := h.Conns.Get(n); return ok }},
			Schedules: &scheduleapi.API{Scheduler: h.Sched},
			Plugins:   &pluginapi.API{Registry: h.Plugins.Registry(), Connections: h.Conns, Refused: h.shared.refusedFunc()},
			Status: &storeapi.API{
				DataDir: h.Settings.DataDir, Retention: h.Settings.Retention,
				Store: h.engine, Engine: h.Engine, Sweeps: h.expiry,
			},
			Config:  &configapi.API{Reloader: h.reload},
			Alerts:  &alertapi.API{Alerts: h.Alerts},
			OpenAPI: &openapi.API{},
			Tap:     tapAPI,
		},
	}), nil
}

// serverTLS is the listener's TLS configuration, or nil when Settings give
// no tls.
func serverTLS(s config.Settings, conns []*config.Connection) (*tls.Config, error) {
	if s.TLS == nil {
		return nil, nil
	}
	return server.NewTLSConfig(s.TLS, conns)
}
