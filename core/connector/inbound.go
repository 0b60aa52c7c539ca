package connector

import (
	"math"
	"strconv"

	"github.com/junctionhub/junction/pluginsdk"
)

// ReceivesPushes reports whether /hooks/{name} accepts pushes for this
// connection: its connector has the receive role and the connection has
// auth configured. An absent auth block never means "open": anonymous
// inbound takes an explicit `auth: {type: none}`, so a connection written
// as an outbound target cannot be written to by anyone who guesses its
// name. oauth2 client credentials are what Junction presents to a remote,
// never what a pusher presents to Junction, so they open no inbound either.
func (c *Conn) ReceivesPushes() bool {
	t := c.Config.Auth.Type
	return c.Spec.HasRole(pluginsdk.RoleReceive) && t != "" && t != string(pluginsdk.AuthOAuth2)
}

// MaxEvents is the most events one inbound request may produce: the
// connector config's max_events (where the connectors that split batches
// take it), or pluginsdk.DefaultMaxEvents. The host refuses a Receive
// result above it, a backstop for a connector that does not check.
func (c *Conn) MaxEvents() int {
	switch v := c.Config.Config["max_events"].(type) {
	case int:
		if v > 0 {
			return v
		}
	case float64:
		if v >= 1 && v <= math.MaxInt32 {
			return int(v)
		}
	case string:
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return pluginsdk.DefaultMaxEvents
}
