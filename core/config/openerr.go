package config

import (
	"regexp"
	"sort"
)

// configKeyRE finds the connector config key a connector's message names
// ("config.url: ...", "connection x: config.headers: ...").
var configKeyRE = regexp.MustCompile(`\bconfig\.([A-Za-z0-9_-]+)`)

// OpenError places a problem found while opening a connection (its
// connector's Configure refused its config or auth) at the YAML node it is
// about: the config key the message names, else the auth block when the
// message is about auth, else the connection's document.
func OpenError(c *Connection, msg string) *Error {
	at := c.Pos
	if m := configKeyRE.FindAllStringSubmatch(msg, -1); len(m) > 0 {
		// The first key named that the connection sets.
		for _, k := range m {
			if p, ok := c.ConfigPos[k[1]]; ok {
				return &Error{Pos: p, Msg: msg}
			}
		}
		// A required key that is missing is reported at the config block's
		// first key, or the document.
		if len(c.ConfigPos) > 0 {
			first := make([]Pos, 0, len(c.ConfigPos))
			for _, p := range c.ConfigPos {
				first = append(first, p)
			}
			sort.Slice(first, func(i, j int) bool { return first[i].before(first[j]) })
			at = first[0]
		}
		return &Error{Pos: at, Msg: msg}
	}
	if authRE.MatchString(msg) && c.Auth.Pos.Line > 0 {
		at = c.Auth.Pos
	}
	return &Error{Pos: at, Msg: msg}
}

var authRE = regexp.MustCompile(`\bauth\b|\bauth\.`)
