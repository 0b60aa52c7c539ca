// Package gopluginhost runs a connector plugin as a child process over
// hashicorp/go-plugin and presents it to the rest of Junction as an ordinary
// pluginsdk.Connector with all four roles.
//
// One Connector owns one process at a time. A supervisor goroutine checks the
// process every HealthInterval (go-plugin's control Ping, answered even while
// connector calls are busy) and watches for calls that fail because the
// connection broke. Either way the process is killed and reaped, and a new
// one is started after a backoff that doubles while restarts keep failing;
// Configure is re-run on it with the saved Context, so the new process is
// indistinguishable from the old. Only the calls in flight when the process
// died fail, with a retryable error: the workflow engine retries them, and
// calls that arrive during the restart wait for it (bounded by their
// context).
//
// The child gets a minimal environment (PATH, TMPDIR, locale, TLS roots and
// Options.Env) instead of the host's: the host's environment holds the admin
// token and the secret key. On Linux the child is also killed if the host
// dies without closing it (Pdeathsig), so a crashed host leaves no orphans.
//
// The RPC runs over Unix sockets in private (0700) temporary directories,
// go-plugin's and the direct one (which also wants a random token the host
// learns over go-plugin's connection), so it is not wrapped in go-plugin's
// AutoMTLS: only the same user can reach them, and that user can read the
// plugin's memory anyway.
//
// Cost, measured on the 2-core development VM: a call that needs no host
// service takes ~85 µs (BenchmarkRoundTrip; ~130 µs before calls moved to
// the direct socket); the example notifier's Perform, which calls back into
// the host's HTTP service, ~180-230 µs (~300 µs before) against ~8 µs for
// the same connector in process (plugins/slack BenchmarkPerform).
// That is small next to the network call such a connector makes; connectors
// that need isolation but no native code are better built to Wasm.
package gopluginhost
