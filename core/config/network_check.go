package config

// NetworkChecker is what a Checker may also tell: whether an allow_hosts
// entry can only reach an address that the outbound guard refuses without
// allow_private. It returns why ("loopback", "private", ...) or "" when the
// entry may reach a public address. The rules are the guard's own
// (connector/host), so validation and run time cannot disagree.
type NetworkChecker interface {
	InternalHost(entry string) string
}

// checkNetwork refuses allow_hosts entries that would fail every call at
// run time: a loopback or private address listed without allow_private.
func (l *loader) checkNetwork(c *Connection) {
	nc, ok := l.check.(NetworkChecker)
	if !ok || c.Network.AllowPrivate {
		return
	}
	for i, h := range c.Network.AllowHosts {
		class := nc.InternalHost(h)
		if class == "" {
			continue
		}
		var at Pos
		if i < len(c.allowHostsPos) {
			at = c.allowHostsPos[i]
		}
		l.errorAt(at, "spec.network.allow_hosts[%d]: %s is a %s address, and without network.allow_private every call to it is refused at run time; set spec.network.allow_private: true to reach it", i, h, class)
	}
}

// ConnectorSearcher is what a Checker may also tell: where it looked for a
// connector it does not know (the installed plugins' directory, the plugin
// source folders), so the error names the directory to fix.
type ConnectorSearcher interface {
	SearchedFor(connector string) string
}

// searched is the suffix of an unknown-connector error: where the checker
// looked, when it can say.
func (l *loader) searched(connector string) string {
	cs, ok := l.check.(ConnectorSearcher)
	if !ok {
		return ""
	}
	return "; looked in " + cs.SearchedFor(connector) + "; install it with `junction plugin install`, or point Settings plugin_dirs at its source"
}
