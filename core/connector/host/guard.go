package host

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// addrClass names why an address is internal ("" for a public address).
type addrClass string

const (
	classPublic      addrClass = ""
	classUnspecified addrClass = "unspecified"
	classLoopback    addrClass = "loopback"
	classPrivate     addrClass = "private"
	classLinkLocal   addrClass = "link-local"
	classMulticast   addrClass = "multicast"
	classCGNAT       addrClass = "shared (CGNAT)"
	classReserved    addrClass = "reserved"
)

// Ranges that netip's predicates do not cover but that must not be reachable
// from a connector: they either route inside the host's network or are never
// valid destinations.
var (
	cgnat         = netip.MustParsePrefix("100.64.0.0/10")  // RFC 6598 shared address space
	thisNetwork   = netip.MustParsePrefix("0.0.0.0/8")      // RFC 1122: "this host on this network"
	reservedV4    = netip.MustParsePrefix("240.0.0.0/4")    // RFC 1112 reserved, includes broadcast
	ietfProtocol  = netip.MustParsePrefix("192.0.0.0/24")   // RFC 6890 IETF protocol assignments
	benchmarking  = netip.MustParsePrefix("198.18.0.0/15")  // RFC 2544, often used for internal lab nets
	nat64         = netip.MustParsePrefix("64:ff9b::/96")   // RFC 6052: embeds an IPv4 address
	nat64Local    = netip.MustParsePrefix("64:ff9b:1::/48") // RFC 8215 local-use NAT64
	ipv4Compat    = netip.MustParsePrefix("::/96")          // deprecated IPv4-compatible IPv6
	sixToFour     = netip.MustParsePrefix("2002::/16")      // 6to4: embeds an IPv4 address
	discardOnlyV6 = netip.MustParsePrefix("100::/64")       // RFC 6666 discard-only
)

// classify reports whether ip is an address a connector must not reach
// without AllowPrivate, and which kind it is. IPv4-mapped IPv6 addresses
// (::ffff:a.b.c.d) and the IPv6 forms that embed an IPv4 address (NAT64,
// 6to4, IPv4-compatible) are judged by the IPv4 address they carry, so
// ::ffff:127.0.0.1 is loopback, not a public IPv6 address.
func classify(ip netip.Addr) addrClass {
	ip = ip.WithZone("")
	if ip.Is4In6() {
		ip = ip.Unmap()
	}
	if ip.Is6() {
		if v4, ok := embeddedV4(ip); ok {
			if c := classify(v4); c != classPublic {
				return c
			}
		}
	}
	switch {
	case !ip.IsValid(), ip.IsUnspecified():
		return classUnspecified
	case ip.IsLoopback():
		return classLoopback
	case ip.IsPrivate():
		return classPrivate
	case ip.IsLinkLocalUnicast():
		return classLinkLocal
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return classMulticast
	case cgnat.Contains(ip):
		return classCGNAT
	case thisNetwork.Contains(ip), reservedV4.Contains(ip), ietfProtocol.Contains(ip),
		benchmarking.Contains(ip), discardOnlyV6.Contains(ip):
		return classReserved
	}
	return classPublic
}

// embeddedV4 returns the IPv4 address carried by an IPv6 address in one of
// the translation or tunnelling formats that a router may forward to it.
func embeddedV4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case nat64.Contains(ip), nat64Local.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case ipv4Compat.Contains(ip):
		// ::/96 also holds :: and ::1, which classify handles as IPv6.
		if ip == netip.IPv6Unspecified() || ip == netip.IPv6Loopback() {
			return netip.Addr{}, false
		}
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// hostPattern is one entry of an allow-list: an exact host name or IP
// address, or "*.suffix" for any name below suffix (not suffix itself),
// optionally with a port that the request's port must then equal.
type hostPattern struct {
	exact  string
	suffix string // ".example.com" for "*.example.com"
	any    bool   // "*"
	port   string // "" matches any port
}

// ValidateAllowHost reports whether p is a valid allow-list entry: "*", an
// exact host name or IP address, or "*.suffix", each optionally followed by
// ":port" (IPv6 addresses in brackets when a port follows). It does not
// accept schemes, paths or wildcards elsewhere, so a config mistake is found
// at load time instead of silently matching nothing.
func ValidateAllowHost(p string) error {
	_, err := parseHostPattern(p)
	return err
}

func parseHostPattern(entry string) (hostPattern, error) {
	host, port, err := splitPatternPort(strings.TrimSpace(entry))
	if err != nil {
		return hostPattern{}, fmt.Errorf("allow_hosts entry %q: %w", entry, err)
	}
	if host == "*." {
		return hostPattern{}, fmt.Errorf("allow_hosts entry %q: a wildcard needs a suffix, as in *.example.com", entry)
	}
	p := normalizeHost(host)
	switch {
	case p == "":
		return hostPattern{}, fmt.Errorf("allow_hosts entry %q is empty", entry)
	case p == "*":
		return hostPattern{any: true, port: port}, nil
	case strings.ContainsAny(p, "/:@?#% ") && !isIPv6(p):
		return hostPattern{}, fmt.Errorf("allow_hosts entry %q: want a host such as api.example.com, api.example.com:8443 or *.example.com, without scheme or path", entry)
	case strings.HasPrefix(p, "*."):
		rest := p[2:]
		if rest == "" || strings.Contains(rest, "*") || strings.HasPrefix(rest, ".") {
			return hostPattern{}, fmt.Errorf("allow_hosts entry %q: a wildcard must be a whole leading label, as in *.example.com", entry)
		}
		return hostPattern{suffix: p[1:], port: port}, nil
	case strings.Contains(p, "*"):
		return hostPattern{}, fmt.Errorf("allow_hosts entry %q: a wildcard must be a whole leading label, as in *.example.com", entry)
	}
	return hostPattern{exact: p, port: port}, nil
}

// splitPatternPort splits "host:port" and "[v6]:port"; a bare IPv6 address
// or a name without a colon has no port.
func splitPatternPort(s string) (host, port string, err error) {
	if isIPv6(s) || !strings.Contains(s, ":") {
		return s, "", nil
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		return s, "", nil
	}
	i := strings.LastIndexByte(s, ':')
	host, port = s[:i], s[i+1:]
	if strings.Contains(host, ":") && !(strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")) {
		return "", "", fmt.Errorf("want a host such as api.example.com:8443 or [2001:db8::1]:8443")
	}
	n, convErr := strconv.Atoi(port)
	if convErr != nil || n < 1 || n > 65535 || port[0] == '0' {
		return "", "", fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return host, port, nil
}

func isIPv6(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is6()
}

// normalizeHost lowercases a host, strips IPv6 brackets and a trailing dot
// (example.com. and example.com are the same name).
func normalizeHost(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(h, ".")
}

func (p hostPattern) match(host, port string) bool {
	if p.port != "" && p.port != port {
		return false
	}
	switch {
	case p.any:
		return true
	case p.suffix != "":
		return len(host) > len(p.suffix) && strings.HasSuffix(host, p.suffix)
	}
	return host == p.exact
}

// allowList is a parsed allow-list; empty means any host.
type allowList struct {
	patterns []hostPattern
	invalid  []string // entries that did not parse: they match nothing
}

func newAllowList(entries []string) allowList {
	var l allowList
	for _, e := range entries {
		p, err := parseHostPattern(e)
		if err != nil {
			l.invalid = append(l.invalid, e)
			continue
		}
		l.patterns = append(l.patterns, p)
	}
	return l
}

// allows reports whether host on port (the effective port: 443 for an https
// URL without one) may be contacted. An allow-list made only of invalid
// entries allows nothing: failing closed beats opening to any host.
func (l allowList) allows(host, port string) bool {
	if len(l.patterns) == 0 && len(l.invalid) == 0 {
		return true
	}
	host = normalizeHost(host)
	for _, p := range l.patterns {
		if p.match(host, port) {
			return true
		}
	}
	return false
}
