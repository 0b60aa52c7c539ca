package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/alert/alertapi"
	"github.com/junctionhub/junction/core/config/configapi"
	"github.com/junctionhub/junction/core/connector/connectorapi"
	"github.com/junctionhub/junction/core/directory/directoryapi"
	"github.com/junctionhub/junction/core/fetch/fetchapi"
	"github.com/junctionhub/junction/core/openapi"
	"github.com/junctionhub/junction/core/plugin/pluginapi"
	"github.com/junctionhub/junction/core/schedule/scheduleapi"
	"github.com/junctionhub/junction/core/stats/statsapi"
	"github.com/junctionhub/junction/core/store/storeapi"
	"github.com/junctionhub/junction/core/tap/tapapi"
	"github.com/junctionhub/junction/core/workflow/workflowapi"
)

// APIs are the domain APIs the server mounts under /api/v1, behind the
// admin token. Each is its domain's api package (see the package doc); a
// nil one is not served, and its paths answer 404.
type APIs struct {
	// Workflows: /workflows, /runs, /dead-letters.
	Workflows *workflowapi.API
	// Connections: /connections and /connections/:name.
	Connections *connectorapi.API
	// Events: /events/:id.
	Events *storeapi.Events
	// Directory: /directories, /contacts, /distributions.
	Directory *directoryapi.API
	// Fetch: a connection's jobs, metadata, credentials and webhook key.
	Fetch *fetchapi.API
	// Stats: a connection's data overview and latest records.
	Stats *statsapi.API
	// Schedules: /schedules.
	Schedules *scheduleapi.API
	// Plugins: /plugins.
	Plugins *pluginapi.API
	// Status: /status.
	Status *storeapi.API
	// Config: /config (the running version) and /config/apply (hot
	// reload).
	Config *configapi.API
	// Alerts: /alerts.
	Alerts *alertapi.API
	// OpenAPI: /openapi.json, the contract of every route here.
	OpenAPI *openapi.API
	// Tap: /tap, the live stream of a connection's or workflow's events
	// and runs.
	Tap *tapapi.API
}

// routes adds every API that is set to the /api/v1 group.
func (a APIs) routes(api fiber.Router) {
	if a.Workflows != nil {
		a.Workflows.Routes(api)
	}
	if a.Connections != nil {
		a.Connections.Routes(api)
	}
	if a.Events != nil {
		a.Events.Routes(api)
	}
	if a.Directory != nil {
		a.Directory.Routes(api)
	}
	if a.Fetch != nil {
		a.Fetch.Routes(api)
	}
	if a.Stats != nil {
		a.Stats.Routes(api)
	}
	if a.Schedules != nil {
		a.Schedules.Routes(api)
	}
	if a.Plugins != nil {
		a.Plugins.Routes(api)
	}
	if a.Status != nil {
		a.Status.Routes(api)
	}
	if a.Config != nil {
		a.Config.Routes(api)
	}
	if a.Alerts != nil {
		a.Alerts.Routes(api)
	}
	if a.OpenAPI != nil {
		a.OpenAPI.Routes(api)
	}
	if a.Tap != nil {
		a.Tap.Routes(api)
	}
}

// Console is the web console as the server mounts it. It is an interface,
// not *console.Console, because the console's tests serve it through this
// package: package server cannot import it.
type Console interface {
	// Mount adds the console's pages; each page checks its own session.
	Mount(app *fiber.App)
}
