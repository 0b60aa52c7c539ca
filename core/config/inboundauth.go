package config

import (
	"fmt"
	"strings"
)

// ReceiveChecker is what a Checker may also tell: whether a connector
// receives pushes (has the receive role). checkable is false when that
// cannot be known without loading the connector (a plugin not built yet);
// the auth warnings are then skipped.
type ReceiveChecker interface {
	Receives(connector string) (receives, checkable bool)
}

// checkInboundAuth warns about the two ways a receiving connection can be
// open or shut without its author meaning it: no auth block at all (the
// connection does not receive pushes: /hooks/{name} answers 404), and an
// explicit auth: {type: none} (anyone who can reach the URL may post).
// Neither is an error: an outbound-only use of a bidirectional connector
// needs no auth, and open inbound is allowed when asked for by name.
func (l *loader) checkInboundAuth(c *Connection) {
	rc, ok := l.check.(ReceiveChecker)
	if !ok || !connectorRE.MatchString(c.Connector) {
		return
	}
	if receives, checkable := rc.Receives(c.Connector); !receives || !checkable {
		return
	}
	switch c.Auth.Type {
	case "":
		if l.outboundOnly(c.Name) {
			return // a target of tasks that nothing expects events from
		}
		l.warnings = append(l.warnings, &Warning{Pos: c.Pos, Msg: fmt.Sprintf(
			"connection %s: no auth, so it does not receive pushes (/hooks/%s answers 404); add spec.auth (e.g. {type: api_key, secret: ${KEY}}) to receive, or ignore this if it is only an outbound target",
			c.Name, c.Name)})
	case "oauth2":
		if l.triggered(c.Name) {
			l.warnings = append(l.warnings, &Warning{Pos: c.Auth.Pos, Msg: fmt.Sprintf(
				"connection %s: auth type oauth2 is for outbound calls, so it does not receive pushes (/hooks/%s answers 404), yet a workflow is triggered by it",
				c.Name, c.Name)})
		}
	case "none":
		l.warnings = append(l.warnings, &Warning{Pos: c.Auth.Pos, Msg: fmt.Sprintf(
			"connection %s: auth type none: anyone who can reach /hooks/%s can post events to it",
			c.Name, c.Name)})
	}
}

// triggered reports whether a workflow is triggered by the connection.
func (l *loader) triggered(name string) bool {
	for _, w := range l.b.Workflows {
		if w.Trigger.Connection == name {
			return true
		}
	}
	return false
}

// outboundOnly reports whether workflows use the connection only as the
// target of tasks (uses: <name>.<action>), or alerts notify through it,
// and no workflow is triggered by it.
func (l *loader) outboundOnly(name string) bool {
	used := false
	for _, a := range l.b.Alerts {
		used = used || a.Notify.Connection == name
	}
	for _, w := range l.b.Workflows {
		if w.Trigger.Connection == name {
			return false
		}
		for _, t := range w.Tasks {
			if conn, _, ok := strings.Cut(t.Uses, "."); ok && conn == name {
				used = true
			}
		}
	}
	return used
}
