// Package console is Junction's operator web console, served by the same
// fiber server as the API at "/": run history, workflows (with "run test
// data" and "capture next event"), the data overview of connections, the
// installed plugins and the contact directory.
//
// # Wiring
//
//	con, err := console.New(console.Options{Store: st, Engine: eng, Bundle: b,
//		Connections: conns, AdminTokenHash: hash, Logger: log,
//		Stats: ..., Ops: ..., Plugins: ..., Directory: ...}) // each may be nil
//	srv := server.New(server.Options{..., Console: con})
//	...
//	con.Close() // before srv.Shutdown: ends waiting captures
//
// Stats, Ops, Plugins and Directory are the small interfaces in sources.go;
// a nil one makes its section say "not available yet".
//
// # Pages
//
//	GET  /login, POST /login, POST /logout
//	GET  /runs?workflow=&status=&since=&dead=1&after=   GET /runs/{id}   POST /runs/{id}/replay
//	GET  /workflows   GET /workflows/{name}   POST /workflows/{name}/test   POST /workflows/{name}/capture
//	GET  /connections   GET /connections/{name}   GET /connections/{name}/json
//	GET  /connections/{name}/entities/{entity}[/fields/{field}]
//	POST /connections/{name}/fetch | metadata | reconnect
//	GET  /connections/{name}/tap   GET /workflows/{name}/tap   (live views: server-sent events)
//	GET  /plugins   GET /directory?directory=&q=   GET /directory/contacts/{id}
//	GET  /static/{file}   (CSS and JS, no session needed)
//
// # Rationale
//
//   - Server-rendered html/template pages with embedded assets: no build
//     step, one binary, and every page works without JavaScript. The one
//     script marks slow forms as busy and runs the live views (an
//     EventSource on the page's own origin, authorized by the session
//     cookie, so the CSP allows connect-src 'self'). Charts are inline SVG drawn on
//     the server. The Content-Security-Policy allows scripts and styles from
//     the console's own origin only, so markup injected through a payload
//     could not run even if escaping failed.
//   - Login posts the admin token; its SHA-256 is compared with the stored
//     hash in constant time, as the API's bearer check does. The console
//     then works with a random session ID in an HttpOnly, SameSite=Strict
//     cookie (Secure over https), never with the token itself. Sessions are
//     kept in memory and in the store's KV under the SHA-256 of the ID, with
//     the session's TTL, so a restart keeps operators logged in and a copy
//     of the store holds no usable cookie. A session also records a digest
//     of the admin token hash: rotating the token ends every session.
//   - After 10 failed logins from one address within 10 minutes, the form
//     answers 429 with Retry-After, even to the right token, until that
//     window ends. The address is the TCP peer's (forwarded headers are not
//     trusted), so behind a reverse proxy all clients share one count.
//   - Every form carries the session's CSRF token and every POST checks it
//     (403 otherwise). The login form, which has no session yet, uses a
//     double-submit cookie scoped to /login. SameSite=Strict already keeps
//     cross-site posts from carrying the session; the token does not rely on
//     every browser honouring it.
//   - Without a session a page redirects to /login?next=<page> and a form
//     post is refused with 403 (it cannot carry a valid token). next must be
//     a local path, so the login cannot redirect to another site.
//   - "Capture next event" polls the log's LastSeq (one atomic load) every
//     100 ms instead of waiting on Log.Notify: that channel is shared and
//     each signal wakes one reader, so a waiting capture would take wake-ups
//     from the workflow dispatcher.
//   - Per-workflow run counts on the workflow list cover the last 24 hours
//     and at most 500 runs: counting a workflow's whole history would read
//     every run it ever had on each page view.
package console
