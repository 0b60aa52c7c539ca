package host

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Reachability checks (junction doctor) use the connection's own policy, so
// that a check can never reach what the connection could not: the doctor
// must not become a way to probe the hub's network.

// RefusedError is a dial the connection's network policy refused: nothing
// was sent.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return e.Msg }

// IsRefused reports whether err is a policy refusal (see RefusedError).
func IsRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}

// Dial opens a TCP connection to address (host:port) under the rules of
// an HTTP request: the allow-list (and a plugin's grant) on the host and
// port, then the class of every resolved address before connect. A
// refusal is a *RefusedError.
func (c *HTTPClient) Dial(ctx context.Context, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %q: %w", address, err)
	}
	// checkURL wants a URL; the explicit port makes the scheme irrelevant.
	u := &url.URL{Scheme: "https", Host: net.JoinHostPort(host, port)}
	if err := c.checkURL(u); err != nil {
		return nil, &RefusedError{Msg: err.Error()}
	}
	d := net.Dialer{Timeout: 10 * time.Second, Control: c.checkDial}
	nc, err := d.DialContext(ctx, "tcp", address)
	if err != nil {
		var pe *policyError
		if errors.As(err, &pe) {
			return nil, &RefusedError{Msg: pe.msg}
		}
		return nil, err
	}
	return nc, nil
}

// Reach connects to rawURL's host (and completes a TLS handshake, verifying
// the certificate, for https) without sending a request, and describes what
// it found. An error is a *RefusedError, a *tls.CertificateVerificationError
// (or another x509 failure), or a network error.
func (c *HTTPClient) Reach(ctx context.Context, rawURL string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("parse URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", &RefusedError{Msg: c.prefix(fmt.Sprintf("scheme %q is not allowed (want http or https)", u.Scheme))}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	start := time.Now()
	nc, err := c.Dial(ctx, addr)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	if u.Scheme == "http" {
		return fmt.Sprintf("tcp %s connected in %s", nc.RemoteAddr(), since(start)), nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	tc := tls.Client(nc, &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		return "", fmt.Errorf("tls handshake with %s: %w", addr, err)
	}
	st := tc.ConnectionState()
	leaf := st.PeerCertificates[0]
	return fmt.Sprintf("tls %s (%s) connected in %s, certificate for %s valid until %s",
		nc.RemoteAddr(), tls.VersionName(st.Version), since(start), certName(leaf), leaf.NotAfter.UTC().Format(time.DateOnly)), nil
}

// IsCertificateError reports whether err is a TLS certificate the client
// could not verify (unknown authority, wrong name, expired).
func IsCertificateError(err error) bool {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	return errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci)
}

func certName(c *x509.Certificate) string {
	if len(c.DNSNames) > 0 {
		return strings.Join(c.DNSNames, ", ")
	}
	return c.Subject.CommonName
}

func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }
