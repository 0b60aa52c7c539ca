package server

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/server/tlstest"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
)

// pki is the certificates of a guard test: a CA and the server's
// certificate for 127.0.0.1, a client certificate it issued, one from
// another CA, and one it issued for servers only.
type pki struct {
	ca, other                        *tlstest.CA
	server, client, foreign, server2 *tlstest.Leaf
	certFile, keyFile                string
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	p := &pki{ca: tlstest.NewCA(t, "Junction Test CA"), other: tlstest.NewCA(t, "Someone Else CA")}
	p.server = p.ca.Server(t)
	p.client = p.ca.Client(t, "proxy.salesforce.example")
	p.foreign = p.other.Client(t, "proxy.salesforce.example")
	p.server2 = p.ca.Issue(t, "not-a-client", x509.ExtKeyUsageServerAuth)
	p.certFile, p.keyFile = p.server.WriteFiles(t, t.TempDir(), "server")
	return p
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// guardServer serves conns (echo connectors) over TLS on 127.0.0.1:0 and
// returns the server, its base URL and its store.
func guardServer(t *testing.T, p *pki, conns []*config.Connection, trusted []netip.Prefix, clock *fakeClock) (*Server, string, *store.Badger) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The guard is under test, not auth: the connections are open on
	// purpose (a connection without auth receives nothing).
	for _, c := range conns {
		c.Auth.Type = "none"
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := connector.NewManager(ctx, connector.ManagerOptions{
		Connections: conns, Store: st, Logger: quiet,
		Open: func(context.Context, *config.Connection) (connector.Opened, error) {
			return connector.Opened{Connector: &echoConnector{}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := connector.NewResolver(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := workflow.New(workflow.Options{Store: st, Resolver: r})
	if err != nil {
		t.Fatal(err)
	}
	tc, err := NewTLSConfig(&config.TLS{Cert: p.certFile, Key: p.keyFile}, conns)
	if err != nil {
		t.Fatal(err)
	}
	s := New(Options{Store: st, Connections: m, Engine: e, AdminTokenHash: sha256.Sum256([]byte("tok")),
		Logger: quiet, TLS: tc, TrustedProxies: trusted})
	if clock != nil {
		s.guards.now = clock.Now
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return s, "https://" + ln.Addr().String(), st
}

// client is an HTTPS client that trusts the test CA, presents cert (nil:
// none) whatever CAs the server names, and connects from local (nil: any).
func (p *pki) httpClient(cert *tlstest.Leaf, local net.IP) *http.Client {
	tc := &tls.Config{RootCAs: p.ca.Pool()}
	if cert != nil {
		tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert.TLS, nil }
	}
	d := &net.Dialer{}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: tc, DialContext: d.DialContext, DisableKeepAlives: true}}
}

// posted numbers the bodies, so that the echo connector's dedup key differs.
var posted atomic.Int64

func post(t *testing.T, c *http.Client, url string, header map[string]string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(strconv.FormatInt(posted.Add(1), 10)))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestGuard(t *testing.T) {
	p := newPKI(t)
	pinned := x509.NewCertPool()
	pinned.AddCert(p.client.Cert)
	conns := []*config.Connection{
		{Name: "open", Connector: "echo"},
		{Name: "ips", Connector: "echo", Inbound: &config.Inbound{AllowIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}},
		{Name: "proxied", Connector: "echo", Inbound: &config.Inbound{AllowIPs: []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}}},
		{Name: "cert", Connector: "echo", Inbound: &config.Inbound{ClientCAs: p.ca.Pool(), ClientCACerts: []*x509.Certificate{p.ca.Cert}}},
		{Name: "pinned", Connector: "echo", Inbound: &config.Inbound{ClientCAs: pinned}},
		{Name: "both", Connector: "echo", Inbound: &config.Inbound{
			AllowIPs: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}, ClientCAs: p.ca.Pool()}},
	}
	_, base, st := guardServer(t, p, conns, []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, nil)
	local2 := net.IPv4(127, 0, 0, 2)
	tests := []struct {
		name   string
		conn   string
		cert   *tlstest.Leaf
		from   net.IP
		xff    string
		status int
		want   string
	}{
		{name: "no inbound block", conn: "open", status: 200},
		{name: "address outside the list", conn: "ips", status: 403, want: `"ip_not_allowed","message":"address 127.0.0.1 may not send to connection ips`},
		{name: "address in the list", conn: "ips", from: local2, status: 200},
		{name: "trusted proxy forwards an allowed client", conn: "proxied", xff: "203.0.113.9", status: 200},
		{name: "client-written entries left of the proxy's are ignored", conn: "proxied", xff: "198.51.100.1, 203.0.113.9", status: 200},
		{name: "right-most untrusted entry decides", conn: "proxied", xff: "203.0.113.9, 198.51.100.1", status: 403, want: "address 198.51.100.1 may not send"},
		{name: "trusted entries are skipped", conn: "proxied", xff: "203.0.113.9, 127.0.0.1", status: 200},
		{name: "proxy without X-Forwarded-For is itself the client", conn: "proxied", status: 403, want: "address 127.0.0.1 may not send"},
		{name: "garbage in X-Forwarded-For", conn: "proxied", xff: "203.0.113.9, nonsense", status: 403, want: `X-Forwarded-For entry \"nonsense\" from trusted proxy 127.0.0.1 is not an IP address`},
		{name: "untrusted peer cannot forward", conn: "ips", from: net.IPv4(127, 0, 0, 3), xff: "127.0.0.2", status: 403, want: "address 127.0.0.3 may not send"},
		{name: "no client certificate", conn: "cert", status: 401, want: `"client_cert_required","message":"no client certificate was sent`},
		{name: "client certificate from the CA", conn: "cert", cert: p.client, status: 200},
		{name: "client certificate from another CA", conn: "cert", cert: p.foreign, status: 403, want: `"client_cert_invalid","message":"client certificate \"CN=proxy.salesforce.example\" is not accepted by connection cert: x509: certificate signed by unknown authority`},
		{name: "certificate not for client authentication", conn: "cert", cert: p.server2, status: 403, want: "incompatible key usage"},
		{name: "pinned client certificate", conn: "pinned", cert: p.client, status: 200},
		{name: "another certificate of the same CA than the pinned one", conn: "pinned", cert: p.ca.Client(t, "someone"), status: 403, want: "client_cert_invalid"},
		{name: "address checked before the certificate", conn: "both", cert: p.client, status: 403, want: "ip_not_allowed"},
		{name: "address and certificate", conn: "both", cert: p.client, from: local2, status: 200},
	}
	stored := st.Log().LastSeq()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.xff != "" {
				h["X-Forwarded-For"] = tt.xff
			}
			code, body, _ := post(t, p.httpClient(tt.cert, tt.from), base+"/hooks/"+tt.conn, h)
			if code != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("HTTP %d %s; want %d with %q", code, body, tt.status, tt.want)
			}
			now := st.Log().LastSeq()
			if tt.status == 200 && now != stored+1 {
				t.Errorf("accepted, but the log went from %d to %d events", stored, now)
			}
			if tt.status != 200 && now != stored {
				t.Errorf("refused, but the log went from %d to %d events", stored, now)
			}
			stored = now
		})
	}
}

// TestGuardNeedsTLS checks a connection with client_ca reached over plain
// HTTP (possible only when the server was built without TLS).
func TestGuardNeedsTLS(t *testing.T) {
	s, st := newTestServer(t, nil)
	conn, _ := s.o.Connections.Get("echo")
	conn.Config.Inbound = &config.Inbound{ClientCAs: x509.NewCertPool()}
	code, body := do(t, s, "POST", "/hooks/echo", "1")
	if code != 403 || !strings.Contains(body, "accepts only HTTPS requests with a client certificate") || st.Log().LastSeq() != 0 {
		t.Fatalf("HTTP %d %s, %d events stored", code, body, st.Log().LastSeq())
	}
}

func TestGuardRateLimit(t *testing.T) {
	p := newPKI(t)
	clock := &fakeClock{t: time.Now()}
	rl := &config.RateLimit{PerSecond: 0.5, Burst: 2}
	conns := []*config.Connection{
		{Name: "limited", Connector: "echo", Inbound: &config.Inbound{RateLimit: rl}},
		{Name: "other", Connector: "echo", Inbound: &config.Inbound{RateLimit: &config.RateLimit{PerSecond: 1, Burst: 1}}},
	}
	s, base, st := guardServer(t, p, conns, nil, clock)
	c := p.httpClient(nil, nil)
	steps := []struct {
		advance    time.Duration
		conn       string
		status     int
		retryAfter string
	}{
		{conn: "limited", status: 200},
		{conn: "limited", status: 200},
		{conn: "limited", status: 429, retryAfter: "2"}, // a token every 2 s
		{conn: "other", status: 200},                    // buckets are per connection
		{advance: time.Second, conn: "limited", status: 429, retryAfter: "1"},
		{advance: time.Second, conn: "limited", status: 200},
		{conn: "limited", status: 429, retryAfter: "2"},
		{advance: time.Hour, conn: "limited", status: 200}, // refills to the burst, no more
		{conn: "limited", status: 200},
		{conn: "limited", status: 429, retryAfter: "2"},
	}
	accepted := uint64(0)
	for i, step := range steps {
		clock.Add(step.advance)
		code, body, h := post(t, c, base+"/hooks/"+step.conn, nil)
		if code != step.status || h.Get("Retry-After") != step.retryAfter {
			t.Fatalf("step %d: HTTP %d Retry-After %q %s; want %d Retry-After %q", i, code, h.Get("Retry-After"), body, step.status, step.retryAfter)
		}
		if code == 200 {
			accepted++
		}
	}
	if got := st.Log().LastSeq(); got != accepted {
		t.Errorf("log holds %d events, want the %d accepted", got, accepted)
	}
	code, metrics := do(t, s, "GET", "/metrics", "")
	if want := `junction_events_rejected_total{connection="limited",reason="rate_limited"} 4`; code != 200 || !strings.Contains(metrics, want) {
		t.Errorf("metrics lack %s", want)
	}
}
