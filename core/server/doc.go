// Package server serves Junction's HTTP surface on one port with fiber: the
// inbound push endpoints (/hooks/{connection}), the admin REST API (/api/v1,
// behind a bearer token), the console, and /healthz, /readyz, /metrics.
// On a replicated store (store/jetstream) /readyz and /metrics also report
// its connection and replicas (cluster.go), from the store's cached
// answer, so a polling balancer does not load the cluster.
//
// # Where routes live
//
// One rule, checked by TestFiberOnlyInHTTPPackages:
//
//   - A domain package (store, fetch, schedule, stats, directory, workflow,
//     connector, plugin/registry, ...) knows nothing of HTTP: it does not
//     import fiber, this package or the console.
//   - A domain's handlers live in its own api subpackage, named for it:
//     workflow/workflowapi (workflows, runs, dead letters),
//     connector/connectorapi (connections), store/storeapi (status,
//     events), directory/directoryapi, fetch/fetchapi, stats/statsapi,
//     schedule/scheduleapi, plugin/pluginapi, alert/alertapi. Each exports an API struct
//     holding the services it needs, and a Routes method that adds its
//     paths to the /api/v1 group it is given. An api package imports its
//     domain and fiber, never this package or the console; errors are
//     rendered by core/internal/apierror, the one error shape.
//   - This package is the only place that registers them: Options.APIs
//     holds one typed field per domain API, and New mounts each that is
//     set, behind the admin token. Every /api/v1 route is an api
//     package's: the server itself serves only the hooks, /healthz,
//     /readyz and /metrics, and mounts the console.
//   - The console (server/console) follows the same rule: its pages are
//     its own, it reads the domains through the small interfaces of
//     console/sources.go, which the hub adapts (core/hub/console*.go), and
//     the server mounts it (Options.Console). No domain or api package
//     imports it.
//
// Only this package, its subpackages, the api packages and
// core/internal/apierror import fiber; core/hub, which assembles the node,
// does not.
package server
