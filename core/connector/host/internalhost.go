package host

import (
	"net/netip"
	"strings"
)

// InternalHost says why an allow_hosts entry can only ever reach an
// address the guard refuses without AllowPrivate ("loopback", "private",
// "link-local", ...), or "" when it may reach a public one. Only what is
// certain from the entry itself counts: a literal IP address, and the
// localhost names (RFC 6761: localhost and *.localhost always resolve to
// loopback). Other names are resolved at call time and judged then, since
// DNS answers differ between the machine that validates and the one that
// runs. An entry that does not parse is "" here: ValidateAllowHost
// reports it.
func InternalHost(entry string) string {
	p, err := parseHostPattern(entry)
	if err != nil || p.any {
		return ""
	}
	name := p.exact
	if p.suffix != "" {
		name = p.suffix[1:]
	}
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return string(classLoopback)
	}
	if p.suffix != "" {
		return ""
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return ""
	}
	return string(classify(ip))
}
