package host

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Defaults for HTTPOptions fields left zero.
const (
	DefaultHTTPTimeout      = 30 * time.Second
	DefaultMaxResponseBytes = 10 << 20
	// MaxRedirects is how many redirects a request follows before failing.
	MaxRedirects = 5
)

// HTTPOptions is a connection's outbound network policy.
type HTTPOptions struct {
	// AllowHosts lists the hosts a connection may call: an exact host name or
	// IP address, "*.suffix" for any name below suffix, or "*", each with an
	// optional ":port". Empty means any public host. Invalid entries match
	// nothing (see ValidateAllowHost to report them at load time).
	AllowHosts []string
	// AllowPrivate permits loopback, private, link-local, CGNAT and other
	// internal addresses. Off by default: a connector must not reach the
	// hub's own network (cloud metadata at 169.254.169.254, admin ports on
	// localhost) unless the operator says so.
	AllowPrivate bool
	// AllowNets permits these internal ranges even when AllowPrivate is off
	// (an on-premises CRM at 10.1.2.3/32 without opening all of 10/8).
	AllowNets []netip.Prefix
	// DefaultTimeout bounds a request whose HTTPRequest.Timeout is 0
	// (default 30s). It covers the whole exchange, body included.
	DefaultTimeout time.Duration
	// MaxResponseBytes caps a response body (default 10 MiB); a larger body
	// is an error, never silently truncated.
	MaxResponseBytes int64
	// Logger receives one debug record per request (default: discard).
	Logger *slog.Logger
	// Connection names the connection in errors and logs.
	Connection string
	// Grant, when set, is the install grant of the plugin behind the
	// connection: a request must then pass both it and AllowHosts (see
	// HostGrant).
	Grant *HostGrant
}

// HostGrant is the set of hosts a plugin was granted at install
// (capabilities.http_hosts). The connection's AllowHosts can only narrow it:
// the operator who writes a connection must not be able to hand a plugin
// more network than the one who installed it agreed to. An empty Hosts
// grants nothing, unlike an empty AllowHosts, which means any public host.
type HostGrant struct {
	Plugin string // name@version, for errors
	Hosts  []string
}

// HTTPClient is the pluginsdk.HTTPClient the host gives a connection. It is
// safe for concurrent use. Call CloseIdleConnections when the connection is
// closed so that kept-alive connections (and their goroutines) go away.
type HTTPClient struct {
	conn      string
	allow     allowList
	private   bool
	nets      []netip.Prefix
	timeout   time.Duration
	maxBody   int64
	grant     *grantList // nil: no plugin grant applies (builtins)
	log       *slog.Logger
	transport *http.Transport
	client    *http.Client
}

var _ pluginsdk.HTTPClient = (*HTTPClient)(nil)

// NewHTTPClient returns a client enforcing o.
func NewHTTPClient(o HTTPOptions) *HTTPClient {
	c := &HTTPClient{
		conn:    o.Connection,
		allow:   newAllowList(o.AllowHosts),
		private: o.AllowPrivate,
		nets:    o.AllowNets,
		timeout: o.DefaultTimeout,
		maxBody: o.MaxResponseBytes,
		log:     o.Logger,
	}
	if o.Grant != nil {
		c.grant = &grantList{plugin: o.Grant.Plugin, hosts: newAllowList(o.Grant.Hosts)}
	}
	if c.timeout <= 0 {
		c.timeout = DefaultHTTPTimeout
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxResponseBytes
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   c.checkDial,
	}
	c.transport = &http.Transport{
		Proxy:                  nil, // see the package doc: a proxy would hide the target from the guard
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
	}
	c.client = &http.Client{Transport: c.transport, CheckRedirect: c.checkRedirect}
	return c
}

// CloseIdleConnections closes kept-alive connections.
func (c *HTTPClient) CloseIdleConnections() { c.transport.CloseIdleConnections() }

// policyError is a request refused by the connection's network policy.
type policyError struct{ msg string }

func (e *policyError) Error() string { return e.msg }

func (c *HTTPClient) refuse(format string, args ...any) *policyError {
	msg := fmt.Sprintf(format, args...)
	if c.conn != "" {
		msg = "connection " + c.conn + ": " + msg
	}
	return &policyError{msg: msg}
}

// grantFix says how a plugin comes to be granted a host: it asks for it in
// its manifest, and the install grants it (by default what it asks, or
// explicitly with --grant-http).
func grantFix(host string) string {
	return fmt.Sprintf("list it in capabilities.http_hosts of the plugin's junction-plugin.yaml, rebuild, and install again (junction plugin install DIR/dist, with --grant-http %s when granting explicitly)", host)
}

// checkURL applies the scheme and allow-list rules to a request URL.
func (c *HTTPClient) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return c.refuse("scheme %q is not allowed (want http or https) in %s", u.Scheme, redact(u))
	}
	host := u.Hostname()
	if host == "" {
		return c.refuse("URL %s has no host", redact(u))
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	shown := normalizeHost(host)
	if u.Port() != "" {
		shown = net.JoinHostPort(shown, port)
	}
	connOK := c.allow.allows(host, port)
	grantOK := c.grant == nil || c.grant.allows(host, port)
	switch {
	case !connOK && !grantOK:
		return c.refuse("host %q is neither in plugin %s's install grant (capabilities.http_hosts) nor in network.allow_hosts: %s, and add it to the connection's spec.network.allow_hosts", shown, c.grant.plugin, grantFix(shown))
	case !grantOK:
		return c.refuse("host %q is not in plugin %s's install grant (capabilities.http_hosts): %s", shown, c.grant.plugin, grantFix(shown))
	case !connOK:
		return c.refuse("host %q is not in network.allow_hosts: add it to the connection's spec.network.allow_hosts", shown)
	}
	return nil
}

// grantList is a plugin's install grant. Unlike a connection's allow-list,
// an empty grant allows nothing.
type grantList struct {
	plugin string
	hosts  allowList
}

func (g *grantList) allows(host, port string) bool {
	if len(g.hosts.patterns) == 0 {
		return false
	}
	return g.hosts.allows(host, port)
}

func (c *HTTPClient) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return c.refuse("stopped after %d redirects (last to %s)", MaxRedirects, redact(req.URL))
	}
	return c.checkURL(req.URL)
}

// checkDial runs after name resolution and before connect, for every address
// the dialler tries, so a name that resolves (or rebinds) to an internal
// address is refused whatever the URL said.
func (c *HTTPClient) checkDial(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return c.refuse("cannot check dial address %q: %v", address, err)
	}
	if network != "tcp4" && network != "tcp6" && network != "tcp" {
		return c.refuse("network %q is not allowed", network)
	}
	return c.checkAddr(ap.Addr())
}

func (c *HTTPClient) checkAddr(ip netip.Addr) error {
	class := classify(ip)
	if class == classPublic || c.private {
		return nil
	}
	for _, n := range c.nets {
		if n.Contains(ip.Unmap()) || n.Contains(ip) {
			return nil
		}
	}
	return c.refuse("address %s is %s; set network.allow_private to reach it (spec.network.allow_private: true on the connection)", ip, class)
}

// Do sends req and returns the response, whatever its status. See the
// package doc for which errors are retryable.
func (c *HTTPClient) Do(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	start := time.Now()
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, c.fail(ctx, method, "", start, &pluginsdk.Error{Code: "bad_url", Message: c.prefix(fmt.Sprintf("parse URL: %v", err))})
	}
	if err := c.checkURL(u); err != nil {
		return nil, c.fail(ctx, method, u.Host, start, policy(err))
	}
	if len(req.Query) > 0 {
		q := u.Query()
		for k, vs := range req.Query {
			for _, v := range vs {
				q.Add(k, v)
			}
		}
		u.RawQuery = q.Encode()
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = c.timeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, errTimeout)
	defer cancel()

	hreq, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(req.Body))
	if err != nil {
		return nil, c.fail(ctx, method, u.Host, start, &pluginsdk.Error{Code: "bad_request", Message: c.prefix(fmt.Sprintf("build request: %v", err))})
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v)
		}
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", "junction")
	}
	resp, err := c.client.Do(hreq)
	if err != nil {
		return nil, c.fail(ctx, method, u.Host, start, c.classify(ctx, method, u, timeout, err))
	}
	defer resp.Body.Close()
	if resp.ContentLength > c.maxBody {
		return nil, c.fail(ctx, method, u.Host, start, c.tooLarge(method, u))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return nil, c.fail(ctx, method, u.Host, start, c.classify(ctx, method, u, timeout, fmt.Errorf("read body: %w", err)))
	}
	if int64(len(body)) > c.maxBody {
		return nil, c.fail(ctx, method, u.Host, start, c.tooLarge(method, u))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "outbound http",
		slog.String("connection", c.conn), slog.String("method", method),
		slog.String("host", resp.Request.URL.Host), slog.Int("status", resp.StatusCode),
		slog.Duration("duration", time.Since(start)))
	return &pluginsdk.HTTPResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

var errTimeout = errors.New("request timed out")

func (c *HTTPClient) prefix(msg string) string {
	if c.conn == "" {
		return msg
	}
	return "connection " + c.conn + ": " + msg
}

func (c *HTTPClient) tooLarge(method string, u *url.URL) *pluginsdk.Error {
	return &pluginsdk.Error{Code: "response_too_large", Message: c.prefix(fmt.Sprintf(
		"%s %s: response body exceeds the %d-byte limit", method, redact(u), c.maxBody))}
}

func policy(err error) *pluginsdk.Error {
	return &pluginsdk.Error{Code: "egress_denied", Message: err.Error()}
}

// classify turns a transport error into a typed error.
func (c *HTTPClient) classify(ctx context.Context, method string, u *url.URL, timeout time.Duration, err error) *pluginsdk.Error {
	var pe *policyError
	if errors.As(err, &pe) {
		return policy(pe)
	}
	what := method + " " + redact(u)
	if errors.Is(context.Cause(ctx), errTimeout) {
		return &pluginsdk.Error{Code: "timeout", Retryable: true, Message: c.prefix(fmt.Sprintf("%s: timed out after %s", what, timeout))}
	}
	if ctx.Err() != nil {
		return &pluginsdk.Error{Code: "canceled", Retryable: true, Message: c.prefix(fmt.Sprintf("%s: %v", what, context.Cause(ctx)))}
	}
	var (
		unknownCA x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
		verify    *tls.CertificateVerificationError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &invalid) || errors.As(err, &hostname) || errors.As(err, &verify) {
		// The peer's certificate will not become valid by asking again soon;
		// failing now surfaces a misconfiguration (or an interception).
		return &pluginsdk.Error{Code: "tls", Message: c.prefix(fmt.Sprintf("%s: %v", what, unwrapURLError(err)))}
	}
	return &pluginsdk.Error{Code: "network", Retryable: true, Message: c.prefix(fmt.Sprintf("%s: %v", what, unwrapURLError(err)))}
}

// unwrapURLError drops *url.Error's "Post \"https://...\":" prefix, which
// would repeat the method and URL (including any query secrets) we already
// name.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func (c *HTTPClient) fail(ctx context.Context, method, host string, start time.Time, e *pluginsdk.Error) *pluginsdk.Error {
	c.log.LogAttrs(ctx, slog.LevelDebug, "outbound http",
		slog.String("connection", c.conn), slog.String("method", method),
		slog.String("host", host), slog.String("error", e.Message), slog.Bool("retryable", e.Retryable),
		slog.Duration("duration", time.Since(start)))
	return e
}

// redact renders u without user info or query, which may carry credentials
// and end up in run history.
func redact(u *url.URL) string {
	r := *u
	r.User = nil
	r.RawQuery = ""
	r.ForceQuery = false
	r.Fragment = ""
	return r.String()
}
