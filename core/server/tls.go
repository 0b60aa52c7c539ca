package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"github.com/junctionhub/junction/core/config"
)

// NewTLSConfig is the listener's TLS configuration for Settings tls: the
// server certificate (read now; a renewed one needs a restart), TLS 1.2 or
// later, and, when any connection sets inbound.client_ca, a request for a
// client certificate naming those CAs. The certificate is requested, not
// required or verified here: the other connections and the console on the
// same port do not use one, so each connection's guard verifies it against
// its own CAs.
func NewTLSConfig(t *config.TLS, conns []*config.Connection) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(t.Cert, t.Key)
	if err != nil {
		return nil, fmt.Errorf("tls cert %s and key %s: %w", t.Cert, t.Key, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	var cas *x509.CertPool
	for _, c := range conns {
		if c.Inbound == nil || len(c.Inbound.ClientCACerts) == 0 {
			continue
		}
		if cas == nil {
			cas = x509.NewCertPool()
		}
		for _, ca := range c.Inbound.ClientCACerts {
			cas.AddCert(ca)
		}
	}
	if cas != nil {
		// Only the names in the certificate request come from ClientCAs:
		// with RequestClientCert, crypto/tls verifies nothing itself.
		cfg.ClientAuth, cfg.ClientCAs = tls.RequestClientCert, cas
	}
	return cfg, nil
}
