package main

import "github.com/junctionhub/junction/pluginsdk"

// setupSteps are what a Segment user pastes where (pluginsdk.SetupStep):
// the host fills in the hook URL and the credentials of each connection.
// The browser ones need the site's origin in the connection's cors.origins.
var setupSteps = []pluginsdk.SetupStep{
	{
		Title: "Webhooks destination",
		Text:  "{{if .Config.shared_secret}}URL: {{.URL}}\nShared Secret: {{.Config.shared_secret}}{{end}}",
		Help:  "Segment: Connections → Destinations → Webhooks (Actions), Send action, method POST: this URL and Shared Secret.",
	},
	{
		Title: "Tracking API endpoint (server SDKs)",
		Text:  "{{if .Secret}}Endpoint: {{.URL}}\nWrite key: {{.Secret}}{{end}}",
		Help:  "Keep the SDK, change its host: analytics-node new Analytics({writeKey, host: '<endpoint>'}); analytics-python analytics.host = '<endpoint>'.",
	},
	{
		Title: "analytics.js (analytics-next) cdnURL",
		Text:  "{{if .Secret}}AnalyticsBrowser.load({ writeKey: '{{js .Secret}}', cdnURL: '{{js .URL}}' })\n// cdnURL: {{.URL}}{{end}}",
		Help:  "The library loads its settings from <cdnURL>/v1/projects/<writeKey>/settings and sends to this connection; the site's origin must be in cors.origins.",
	},
	{
		Title: "Web tag",
		Text:  "<script>window.junction = window.junction || [];</script>\n<script async src=\"{{html .URL}}/tag.js\"{{if .Secret}} data-write-key=\"{{html .Secret}}\"{{end}}></script>",
		Help:  "For sites without Segment: in every page's <head>. It sends a page view on load; call junction.track(event, properties) and junction.identify(userId, traits). The site's origin must be in cors.origins.",
	},
}
