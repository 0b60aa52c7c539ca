// Package config loads Junction's YAML configuration, checks it, and
// reports every problem with its file, line and column.
//
// # Files and documents
//
// Load takes files and folders; a folder means every *.yaml and *.yml below
// it, in lexical order, skipping entries whose name starts with a dot. A file
// holds one or more YAML documents separated by "---". Every document is an
// envelope:
//
//	apiVersion: junction/v1     # required, exactly this
//	kind: Workflow              # Settings | Connection | Workflow | Directory | Survey | Alert
//	metadata: {name: orders}    # required except for Settings
//	spec: {...}                 # the kind's settings (below)
//
// Names are 1 to 63 letters, digits, "-" and "_", starting with a letter or
// digit (no dots: `uses: <connection>.<action>` splits at the first dot), and
// are unique per kind across all files. At most one Settings document may
// exist.
//
// # Reloading
//
// A running hub takes a new configuration without a restart (`junction
// apply PATH...`, which posts the files' contents to POST
// /api/v1/config/apply, or SIGHUP, which reads the --config paths again).
// LoadSources validates the whole set exactly as Load does at start; on
// any error nothing changes. Settings take effect only at a restart: an
// apply whose Settings differ from those the hub started with is refused,
// with an error at the Settings document naming each changed key. So is a
// change of the client CAs the TLS listener asks for (inbound.client_ca).
// Connections, workflows, directories, surveys and schedules are swapped.
// ${VAR}s are resolved from the hub's environment, as at start.
//
// # Environment variables
//
// Every scalar value (never a key) may use ${VAR}, or ${VAR:-default} which
// applies when VAR is unset or empty. A variable that is unset and has no
// default is an error at the value. "$${" is a literal "${"; any other "$"
// is kept as written. An unquoted value is typed after substitution
// (workers: ${N} with N=4 is the number 4); a quoted one stays a string,
// except where a setting wants a bool or a number. Substitution happens
// after YAML parsing, so a value cannot inject YAML structure. Inside a flow
// mapping or sequence ({...}, [...]) quote such a value, since { and } are
// YAML syntax there: auth: {type: api_key, secret: "${KEY}"}.
//
// # Value formats
//
//   - Durations: Go durations ("30s", "1h30m") plus whole days in front
//     ("7d", "1d12h"); they must be positive.
//   - Sizes: a number of bytes, or with a unit: B, KB, MB, GB (powers of
//     1000), KiB, MiB, GiB (powers of 1024): "512KB", "1MiB".
//   - Time zones: IANA names ("Europe/Rome", "UTC"); the zone database is
//     embedded, so validation does not depend on the host.
//   - Anchors, aliases and merge keys (<<: *base) work as in YAML.
//
// # kind: Settings
//
//	spec:
//	  addr: ":8080"                  # host:port or :port
//	  data_dir: ./data
//	  public_url: https://hub.example.com   # http(s); how others reach this server: hook URLs, setup snippets
//	  timezone: UTC                  # the organisation's time zone
//	  max_body_bytes: 1MiB           # inbound request body limit, after decompression
//	  plugin_dirs: [plugins]
//	  trusted_keys: []               # base64 ed25519 public keys (32 bytes)
//	  require_signatures: false      # true needs trusted_keys
//	  workers: 4                     # default: twice the number of CPUs
//	  retry: {max_attempts: 5, initial_interval: 1s, max_interval: 5m}
//	  tls: {cert: fullchain.pem, key: key.pem}   # serve HTTPS; default: plain HTTP
//	  trusted_proxies: [10.0.0.0/8]  # IPs or CIDRs; default: none
//	  retention:
//	    events: 7d                   # inbound events, by arrival; never before they are dispatched
//	    runs: 30d                    # finished runs, with their input payload
//	    dead_letters: 90d            # dead-lettered runs not replayed by then
//	    max_data_bytes: 20GiB        # optional cap on the data dir (default: none); the
//	                                 # oldest events, then finished runs, go first
//	    min_free_bytes: 256MiB       # below this much free disk, writes get 503; at least 8MiB
//	  memory_limit: 128MiB           # Go soft memory limit of `junction serve`, or none;
//	                                 # a GOMEMLIMIT environment variable wins
//	  store:
//	    type: badger                 # badger (in data_dir) | jetstream (NATS JetStream)
//	    url: nats://n1:4222,nats://n2:4222   # jetstream: required; nats:// or tls://
//	    replicas: 3                  # jetstream: copies of every write, 1 to 5
//	    credentials: nats.creds      # jetstream: NATS credentials file (JWT and NKey seed)
//	    stream: JUNCTION             # jetstream: stream name and subject prefix
//	    node: eu-1                   # this node's name in runs, leases and metrics;
//	                                 # default the host name; distinct per node
//
// All keys are optional and default as shown, except max_data_bytes, which
// is unset by default, and store.url and store.credentials. The store keys
// other than type and node are for jetstream only (an error with badger); the
// --store flag of up and serve (badger, or a nats:// URL) overrides type
// and url. On jetstream, retention is applied by Junction's own sweeps
// (events up to the dispatcher's cursor, finished runs), max_data_bytes
// caps the stream's bytes on each server, and min_free_bytes does not
// apply (the NATS servers keep the disk). JUNCTION_SECRET_KEY must be the
// same on every node sharing a stream: the store refuses to open with
// another key. Installed plugins are shared through the object store
// bucket <stream>_PLUGINS; each node checks them against its own
// trusted_keys and require_signatures. See core/store/jetstream/doc.go. Dedup keys have no retention of their own: each
// expires when its connection's dedup_window ends.
//
// tls names PEM files: the
// certificate chain (server certificate first) and its private key; both are
// read and matched at load time (junction validate too), and a renewed
// certificate takes effect at the next start. A peer in
// trusted_proxies may say whom it forwards for in X-Forwarded-For: the
// client is then the right-most address there that is not a trusted proxy
// (inbound.allow_ips checks it). Without trusted_proxies the header is
// ignored. File paths are relative to the working directory, as data_dir is.
//
// plugin_dirs hold bundled plugin sources (<dir>/*/junction-plugin.yaml),
// which `junction up` builds and `junction validate` reads without
// building. A relative entry is looked for under the working directory
// first, then next to the file holding the Settings document, then in the
// folder above it (a clone keeps configs/ and plugins/ side by side), so
// validate, up and serve find a clone's plugins from any working
// directory; the first that exists wins.
//
// # kind: Connection
//
//	spec:
//	  connector: segment@1.0.0       # required: a builtin, or a plugin name[@version[/form]]
//	                                 #   (segment, segment@1.0.0, segment@1.0.0/wasm; see below)
//	  auth:                          # absent: the connection receives no pushes
//	    type: api_key                # none | api_key | basic | oauth2
//	    secret: ${KEY}               # api_key: secret
//	                                 # basic: username, password
//	                                 # oauth2 (outbound: what Junction presents to a remote; such a
//	                                 #   connection receives no pushes): token_url, client_id,
//	                                 #   client_secret, scopes (optional list), audience (optional).
//	                                 #   Client credentials grant, credentials in HTTP Basic auth; the
//	                                 #   token is cached until shortly before expires_in, shared by
//	                                 #   concurrent calls, refreshed once on a 401, and requested through
//	                                 #   the connection's network rules like every other call. Used by the
//	                                 #   webhook connector's post; plugins (marketo) read it themselves.
//	  config: {}                     # the connector's own keys, checked by the connector
//	                                 #   (keys its spec types as secret, e.g. a webhook signing secret, are
//	                                 #   redacted wherever the config is shown; no connection key hands a
//	                                 #   plugin other secrets: see pluginsdk/GUIDE.md, "Where a secret belongs")
//	  schedule:                      # pull connectors: exactly one of every and cron
//	    every: 24h
//	    start: "02:00"               # HH:MM, with every only
//	    cron: "0 2 * * MON-FRI"      # 5 fields or @hourly, @daily, @weekly, @monthly, @yearly
//	    timezone: Europe/Rome        # default: Settings timezone
//	  network:
//	    allow_hosts: [api.example.com, "*.example.org:8443"]   # outbound HTTP allow-list
//	    allow_private: false         # true allows private and loopback addresses
//	  dedup_window: 24h              # drop repeated deliveries within the window
//	  inbound:                       # who may push; default: anyone the connector accepts
//	    allow_ips: [203.0.113.0/24, 198.51.100.7]   # IPs or CIDRs (no host bits set)
//	    client_ca: ca.pem            # PEM certificates a client certificate must chain to
//	    rate_limit: {per_second: 50, burst: 100}    # burst default: per_second rounded up
//	  cors:                          # web pages that may send from a browser; default: none
//	    origins: [https://shop.example.com]          # scheme://host[:port], or "*" for any page
//	    max_age: 2h                  # preflight cache (Access-Control-Max-Age); at most 24h
//
// connector names a builtin or an installed plugin. A plugin may be
// installed as a Wasm module and as a go-plugin executable of the same
// version, side by side: name (the highest installed version) and
// name@version pick the preferred installed form, wasm before goplugin,
// because a Wasm plugin runs sandboxed in process (no sockets or files, its
// HTTP only through the host under network.allow_hosts) while a go-plugin
// executable is an ordinary process; name@version/wasm or
// name@version/goplugin pins one form. A form needs its version, and only
// wasm and goplugin are forms: anything else is an error at the value's
// line. Whether the reference is installed (or a bundled plugin source
// builds it: its name, the Spec.Version its sources declare, its manifest's
// kind) is checked when a Checker is given, as `junction validate` does.
//
// The console's Setup section, GET /api/v1/connections/{name}/setup and
// `junction connection show NAME --setup` fill in the connector's setup
// steps (pluginsdk.SetupStep: the URLs and snippets its sender needs) with
// the connection's hook URL, built on Settings public_url or, without it,
// on the URL the admin reached the hub at (the answer's baseFrom says
// which), and its credentials, redacted unless revealed.
//
// network.allow_hosts entries are checked against allow_private at load
// time (junction validate, serve, apply): a literal loopback, private,
// link-local or otherwise internal address, or localhost / *.localhost,
// listed without allow_private: true is an error, since every call to it
// would be refused at run time. Other host names are judged when they are
// resolved, at each call.
//
// An auth key that its type does not use is an error, as is a required one
// that is missing or empty. A connection receives pushes on
// /hooks/{name} only when its connector has the receive role and it has an
// auth block: without one it answers 404 (an outbound target cannot be
// written to by whoever guesses its name), and open inbound needs an
// explicit auth: {type: none}. When the Checker can tell that the connector
// receives (config.ReceiveChecker), both load with a warning: a missing
// auth unless the connection is only used as a task's target, and type
// none always.
//
// inbound is checked on /hooks/{connection} before the body is read, in
// this order: allow_ips (else 403 ip_not_allowed), client_ca (no client
// certificate: 401 client_cert_required; one that does not chain to the
// file's certificates for client authentication: 403 client_cert_invalid),
// rate_limit (a token bucket per connection: 429 rate_limited with
// Retry-After). An empty allow_ips is an error (it would refuse everyone);
// leave the key out instead. client_ca needs Settings tls, since a client
// certificate reaches Junction only when it terminates TLS itself; the file
// is read at load time and must hold at least one certificate. A file
// holding the client's own certificate pins it.
//
// cors is checked on /hooks/{connection} first, before the body is read. A
// request with an Origin header (a browser's, on a page of another origin)
// is refused with 403 origin_not_allowed unless that origin is listed; a
// connection without cors refuses every such request. Requests without
// Origin (server SDKs, webhooks) are not affected. A listed origin gets
// Access-Control-Allow-Origin (its own value echoed) and Vary: Origin on
// every answer, errors included, with Retry-After exposed; its preflight
// (OPTIONS with Access-Control-Request-Method) is answered 204 by the
// server itself, allowing GET and POST and the headers Authorization,
// Content-Type and X-Retry-Count (what analytics.js sends, its retries
// included), the connector's credential headers, and Content-Encoding when
// the connector takes gzip; Access-Control-Max-Age is max_age in seconds
// (default 2h, the most Chromium honours). Origins are compared as
// browsers send them: case-insensitively, without a default port
// (https://a.example:443 is https://a.example); a path, a query, user
// info or a wildcard in an origin is an error, as are an empty list and
// cors on a connection that receives no pushes (no auth, or a connector
// without the receive role). Credentialed requests (cookies) are not
// granted: the hooks authenticate with headers or the body.
//
// # kind: Workflow
//
//	spec:
//	  description: text
//	  trigger: {connection: segment-prod}    # or {schedule: {...}} as above
//	  filter:                                # all must hold
//	    - {path: $.type, op: eq, value: track}
//	  fields:                                # name: letters, digits, _
//	    email: {path: $.context.traits.email, type: string, required: true}
//	    amount: {path: $.properties.revenue, type: number, default: 0}
//	  tasks:
//	    - name: save                         # unique; letters, digits, - and _
//	      uses: directory.add_transaction    # builtin task, or <connection>.<action>
//	      with: {contact: {email: "{{ .fields.email }}"}}
//	      if: "{{ .fields.amount }}"         # optional; the task runs when truthy
//	      timeout: 30s
//	      retry: {max_attempts: 10}          # missing keys come from Settings retry
//
// Filter operators: eq, ne, in, exists, gt, gte, lt, lte, contains, matches;
// value is required except for exists. Field types: string, number, boolean;
// without a type the value is kept as in the payload. Paths are RFC 9535
// JSONPath starting at $ (the event payload). Templates in with and if are Go
// text/template over .event, .fields, .tasks.<name>.output and .run; a
// reference to a field that is not declared, or to the output of a task
// that does not run earlier, is an error. Load compiles the filter, the
// fields and every template into Workflow.Compiled.
//
// A workflow triggered by a connection without a filter loads with a warning:
// every event of the connection starts it.
//
// # kind: Directory and kind: Survey
//
//	kind: Directory
//	spec:
//	  display_name: Demo pool
//	  dedup: [email, "firstName+lastName"]   # default [email]; fields: email, phone,
//	                                         # extRef, firstName, lastName; + combines
//	---
//	kind: Survey
//	spec:
//	  display_name: Demo survey
//	  status: active                 # active (default) | inactive
//	  link: https://surveys.example.com/jfe/form/SV_demo
//
// # kind: Alert
//
//	spec:
//	  when:                          # exactly one condition:
//	    runs_failed: {workflow: orders, window: 10m, count: 5, ratio: 0.2, min_runs: 20}
//	    run_dead_lettered: {workflow: orders, window: 1h, count: 1}
//	    fetch_failed: {connection: sftp-orders}
//	    schedule_missed: {connection: sftp-orders, window: 1h, count: 1}   # or {workflow: W}
//	    log_lag: {above: 100000, for: 5m}
//	    auth_failures: {connection: orders-in, window: 10m, count: 20}
//	  notify:
//	    connection: ops-slack        # required: a webhook or an smtp connection
//	    to: [ops@example.com]        # smtp: required, one address or a list
//	    subject: Orders alert        # smtp: optional; default "Junction alert <name>"
//	  cooldown: 15m                  # least time between two "firing" notices
//
// Conditions:
//   - runs_failed (workflow required): failed runs of the workflow among the
//     runs that finished in the last window (default 10m). count: at least
//     that many failed; ratio (0 < ratio <= 1): at least that share failed,
//     once min_runs (default 1; only with ratio) finished. With both, both
//     must hold; at least one is required.
//   - run_dead_lettered: runs that exhausted their retries, of the workflow
//     or of any; at least count (default 1) in window (default 1h).
//   - fetch_failed: the last fetch job of the connection (or of any) failed;
//     it clears when that connection's next job completes.
//   - schedule_missed: slots of the connection's or workflow's schedule (or
//     of any) that did not run on time, because Junction was down at the
//     slot or the previous run outlasted it; count (default 1) in window
//     (default 1h). The connection or workflow must have a schedule.
//   - log_lag: the dispatcher's log lag (logged events not yet turned into
//     runs) stayed above `above` events for `for`.
//   - auth_failures (count required): pushes to the connection (or to any)
//     refused for missing or wrong credentials (401 unauthorized, or a client
//     certificate refused) in window (default 10m).
//
// Test runs (run test data) are not counted. A condition holds or not;
// windowed ones stop holding as their occurrences leave the window. An alert
// sends one "firing" notice when its condition starts to hold, then at most
// one "repeat" notice per cooldown (default 15m) counting the occurrences
// since the previous notice, and one "resolved" notice when the condition
// clears. Through a webhook connection a notice is its `post` action with a
// JSON body: text (one line, what Slack and Teams show), alert, status
// (firing, resolved), kind (firing, repeat, resolved), condition, summary,
// occurrences, since, at, detail, seq. Through an smtp connection it is its
// `send_email` action to `to`, with the subject prefixed [FIRING] or
// [RESOLVED]. The notify connection must exist and use the webhook or smtp
// connector; to and subject are errors on a webhook connection.
//
// # Errors
//
// Load does not stop at the first problem: it returns Errors, sorted by file,
// line and column, each rendered "file:line:col: path: message", where path
// names the setting (spec.tasks[1].with.body.order). Unknown keys list the
// allowed ones and suggest the closest ("unknown key "filtr" (did you mean
// "filter"?)"). YAML syntax errors carry a line only: the parser reports no
// column. What the configuration alone cannot know (is a connector installed,
// does it perform an action, is a task builtin) is asked of the Checker
// given in Options; without one those checks are skipped.
package config
