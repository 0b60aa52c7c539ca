package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math"
	"net/netip"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Inbound limits who may push to a connection (spec.inbound). The server
// checks it before it reads the request any further: the caller's address,
// then its client certificate, then the rate.
//
//	inbound:
//	  allow_ips: [203.0.113.0/24, 198.51.100.7]   # CIDRs or single IPs
//	  client_ca: certs/salesforce-client.pem       # needs Settings tls
//	  rate_limit: {per_second: 50, burst: 100}
type Inbound struct {
	// AllowIPs are the addresses that may push (allow_ips); empty means any.
	// A single IP is stored as a /32 (or /128) prefix. The address checked
	// is the peer's, or, when the peer is one of Settings.TrustedProxies,
	// the right-most X-Forwarded-For address that is not a trusted proxy.
	AllowIPs []netip.Prefix
	// ClientCA is the PEM file (client_ca) of the certificates a client
	// certificate must chain to (a CA, or the client's own certificate to
	// pin it); ClientCAs holds them, and ClientCACerts lists them (the TLS
	// listener names them when it asks for a certificate). Nil when
	// client_ca is not set.
	ClientCA      string
	ClientCAs     *x509.CertPool
	ClientCACerts []*x509.Certificate
	// RateLimit bounds the requests per second the connection accepts
	// (rate_limit); nil means no limit.
	RateLimit *RateLimit
	// Pos is where the inbound block starts; ClientCAPos where client_ca is.
	Pos, ClientCAPos Pos
}

// RateLimit is a token bucket: PerSecond tokens are added each second, up
// to Burst; each request takes one. YAML: {per_second: 50, burst: 100};
// burst defaults to per_second rounded up (at least 1).
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// maxAllowIPs bounds an allow-list: the check is a linear scan per request.
const maxAllowIPs = 1000

// inbound decodes spec.inbound.
func (d *decoder) inbound(n *yaml.Node, path string) *Inbound {
	o := d.object(n, path, "allow_ips", "client_ca", "rate_limit")
	if o == nil {
		return nil
	}
	in := &Inbound{Pos: d.pos(o.node)}
	if v := o.get("allow_ips"); v != nil {
		in.AllowIPs = d.allowIPs(v, o.sub("allow_ips"))
	}
	if v := o.get("client_ca"); v != nil {
		in.ClientCAPos = d.pos(o.keys["client_ca"])
		if p, ok := d.str(v, o.sub("client_ca")); ok {
			in.ClientCA = p
			in.ClientCACerts = d.certs(deref(v), o.sub("client_ca"), p)
			if len(in.ClientCACerts) > 0 {
				in.ClientCAs = x509.NewCertPool()
				for _, c := range in.ClientCACerts {
					in.ClientCAs.AddCert(c)
				}
			}
		}
	}
	if v := o.get("rate_limit"); v != nil {
		in.RateLimit = d.rateLimit(v, o.sub("rate_limit"))
	}
	return in
}

func (d *decoder) allowIPs(n *yaml.Node, path string) []netip.Prefix {
	list, _ := d.strList(n, path)
	if deref(n).Kind == yaml.SequenceNode && len(list) == 0 {
		d.errorf(deref(n), path, "an empty list would refuse every sender; leave allow_ips out to allow any address")
		return nil
	}
	if len(list) > maxAllowIPs {
		d.errorf(deref(n), path, "%d entries; at most %d", len(list), maxAllowIPs)
		return nil
	}
	var out []netip.Prefix
	for i, s := range list {
		at, sub := deref(deref(n).Content[i]), fmt.Sprintf("%s[%d]", path, i)
		if p, err := parseAllowIP(s); err != nil {
			d.errorf(at, sub, "%v", err)
		} else {
			out = append(out, p)
		}
	}
	return out
}

// parseAllowIP reads an IP or a CIDR. A CIDR with host bits set
// (10.1.2.3/8) is refused rather than silently widened or narrowed: it is
// most likely a typo for one of the two.
func parseAllowIP(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("want an IP address or a CIDR such as 203.0.113.0/24, got %q", s)
		}
		if p.Addr().Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q: a zone is not allowed", s)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("%q has bits set after the /%d prefix; did you mean %s?", s, p.Bits(), m)
		}
		// Peers are compared unmapped, so ::ffff:10.0.0.0/104 is kept as
		// 10.0.0.0/8 to match either way of writing it.
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("%q spans more than the IPv4-mapped range; write IPv4 ranges as a.b.c.d/n", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("want an IP address or a CIDR such as 203.0.113.0/24, got %q", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// certs reads the PEM certificates of a client_ca file. An unresolved
// ${VAR} (junction validate without the production environment) is not
// read.
func (d *decoder) certs(n *yaml.Node, path, file string) []*x509.Certificate {
	if file == "" {
		d.errorf(n, path, "want the path of a PEM file of CA certificates, got an empty string")
		return nil
	}
	if d.keepUnset && strings.Contains(file, "${") {
		return nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		d.errorf(n, path, "read %s: %v", file, unwrapPathError(err))
		return nil
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			d.errorf(n, path, "%s: certificate %d: %v", file, len(out)+1, err)
			return nil
		}
		out = append(out, cert)
	}
	if len(out) == 0 {
		d.errorf(n, path, "%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", file)
	}
	return out
}

func (d *decoder) rateLimit(n *yaml.Node, path string) *RateLimit {
	o := d.object(n, path, "per_second", "burst")
	if o == nil {
		return nil
	}
	if !d.require(o, "per_second") {
		return nil
	}
	r := &RateLimit{}
	v := d.typed(o.get("per_second"))
	var ps float64
	if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || v.Decode(&ps) != nil {
		d.errorf(v, o.sub("per_second"), "want a number of requests per second such as 50 or 0.5, got %s", kindName(v))
		return nil
	}
	if ps <= 0 || math.IsNaN(ps) || math.IsInf(ps, 0) || ps > 1e9 {
		d.errorf(v, o.sub("per_second"), "want a positive number of requests per second (at most 1e9), got %s", v.Value)
		return nil
	}
	r.PerSecond = ps
	r.Burst = int(math.Max(1, math.Ceil(ps)))
	if b := o.get("burst"); b != nil {
		n, ok := d.positiveInt(b, o.sub("burst"))
		if !ok {
			return nil
		}
		r.Burst = n
	}
	return r
}

// checkInbound runs the checks of spec.inbound that need the Settings.
func (l *loader) checkInbound(c *Connection) {
	if c.Inbound == nil || c.Inbound.ClientCA == "" {
		return
	}
	if l.b.Settings.TLS == nil {
		l.errorAt(c.Inbound.ClientCAPos, "spec.inbound.client_ca: needs Settings tls (cert and key): a client certificate reaches Junction only when Junction itself terminates TLS")
	}
}
