// Package host provides the services Junction gives every connector, whatever
// form it is built to (builtin, Wasm, go-plugin): an outbound HTTP client that
// enforces the connection's network policy, and a key-value store namespaced
// to the connection.
//
// # Why the SSRF guard sits in the dialer
//
// Checking the URL's host before a request is not enough: a name can resolve
// to a public address when checked and to 169.254.169.254 when dialled (DNS
// rebinding), and a redirect can point anywhere. The client therefore checks
// the allow-list on every URL (first request and each redirect) and checks the
// resolved IP address in net.Dialer.Control, which runs after resolution and
// before connect for every address actually dialled. Nothing reaches a
// loopback, private, link-local or otherwise internal address unless the
// connection was granted it.
//
// # Why no proxy
//
// The transport ignores HTTP(S)_PROXY: through a proxy the dialler would see
// the proxy's address, not the target's, and the guard would be checking the
// wrong thing.
//
// # Errors
//
// Every error is a *pluginsdk.Error. Network faults, timeouts and a context
// cancelled by the caller are retryable; policy refusals (scheme, allow-list,
// address class, too many redirects), an over-size response and certificate
// verification failures are not, because trying again cannot change them.
// Non-2xx responses are responses, not errors: the connector decides what a
// 404 or a 429 means for its API.
package host
