package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Connection is a configured instance of a connector (kind: Connection).
//
//	spec:
//	  connector: segment@1.0.0    # builtin name, or plugin name[@version]
//	  auth: {...}                 # see Auth
//	  config: {...}               # the connector's own settings
//	  schedule: {...}             # pull connectors: see Schedule
//	  network: {...}              # see Network
//	  inbound: {...}              # see Inbound
//	  cors: {...}                 # see CORS
//	  dedup_window: 24h           # drop repeated deliveries within this window
type Connection struct {
	Name, Connector string
	Auth            Auth
	// Config is the connector's own settings, as plain Go values
	// (map[string]any, []any, string, int, float64, bool, nil).
	Config      map[string]any
	Schedule    *Schedule
	Network     Network
	DedupWindow time.Duration
	Pos         Pos
	// ConfigPos is the position of each top-level config key, so a connector's
	// config check can report at the right line.
	ConfigPos map[string]Pos
	// Inbound limits who may push to the connection; nil when not set.
	Inbound *Inbound
	// CORS lists the web origins that may send from a browser; nil when
	// not set (cross-origin requests are then refused).
	CORS *CORS
	// fromEnv marks the config values that came from ${VAR} (see FromEnv).
	fromEnv map[string]bool
	// allowHostsPos is where each network.allow_hosts entry is written.
	allowHostsPos []Pos
}

// Auth is how a connection authenticates (spec.auth). Its type decides which
// keys are required:
//
//	none:    no other key; inbound pushes are accepted from anyone
//	api_key: secret
//	basic:   username, password
//	oauth2:  token_url, client_id, client_secret; optional scopes, audience
//
// Type is "" when the auth block is absent, which is not the same as an
// explicit none: a connection without auth does not receive pushes.
type Auth struct {
	Type                             string
	Secret, Username, Password       string
	TokenURL, ClientID, ClientSecret string
	Scopes                           []string
	Audience                         string
	Pos                              Pos
}

// Network limits a connection's outbound HTTP (spec.network):
// allow_hosts lists the hosts it may call (host, host:port, or *.domain);
// allow_private lets it reach private and loopback addresses, which are
// refused by default against SSRF.
type Network struct {
	AllowHosts   []string
	AllowPrivate bool
}

// Schedule says when something runs: either every (a duration, optionally
// aligned to a start time "HH:MM") or cron (five fields, or @hourly, @daily,
// @weekly, @monthly, @yearly), in timezone (default: Settings.Timezone).
type Schedule struct {
	Every    time.Duration
	Start    string
	Timezone string
	Cron     string
	Pos      Pos
}

var authRequired = map[string][]string{
	"none":    nil,
	"api_key": {"secret"},
	"basic":   {"username", "password"},
	"oauth2":  {"token_url", "client_id", "client_secret"},
}

var authOptional = map[string][]string{"oauth2": {"scopes", "audience"}}

var authTypes = []string{"none", "api_key", "basic", "oauth2"}

// connectorRE is a connection's `connector:`: name, name@version, or
// name@version/form, where the form (wasm or goplugin) pins one of the
// installed forms of that version.
var connectorRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*(@[0-9A-Za-z.+-]+(/(wasm|goplugin))?)?$`)

// connection decodes a Connection's spec; it also returns where the
// connector is named, for the check against installed plugins.
func (d *decoder) connection(spec *yaml.Node) (*Connection, Pos) {
	var at Pos
	// A connection whose spec is unreadable is still returned, so workflows
	// naming it do not report a second, misleading error.
	c := &Connection{Config: map[string]any{}, ConfigPos: map[string]Pos{}}
	if spec == nil {
		return c, at
	}
	o := d.object(spec, "spec", "connector", "auth", "config", "schedule", "network", "inbound", "cors", "dedup_window")
	if o == nil {
		return c, at
	}
	if d.require(o, "connector") {
		v := o.get("connector")
		at = d.pos(deref(v))
		if s, ok := d.str(v, o.sub("connector")); ok {
			if !connectorRE.MatchString(s) {
				d.errorf(deref(v), o.sub("connector"), "%s", connectorRefProblem(s))
			}
			c.Connector = s
		}
	}
	if v := o.get("auth"); v != nil {
		c.Auth = d.auth(v, o.sub("auth"))
	}
	if v := o.get("config"); v != nil {
		n := deref(v)
		if n.Kind != yaml.MappingNode {
			d.errorf(n, o.sub("config"), "want mapping, got %s", kindName(n))
		} else {
			for _, p := range d.pairs(n, o.sub("config")) {
				c.Config[p.key] = d.value(p.val, joinPath(o.sub("config"), p.key), "", nil)
				c.ConfigPos[p.key] = d.pos(p.keyNode)
			}
			c.fromEnv = map[string]bool{}
			d.envPaths(n, nil, c.fromEnv)
		}
	}
	if v := o.get("schedule"); v != nil {
		c.Schedule = d.schedule(v, o.sub("schedule"))
	}
	if v := o.get("network"); v != nil {
		c.Network, c.allowHostsPos = d.network(v, o.sub("network"))
	}
	if v := o.get("inbound"); v != nil {
		c.Inbound = d.inbound(v, o.sub("inbound"))
	}
	if v := o.get("cors"); v != nil {
		c.CORS = d.cors(v, o.sub("cors"))
	}
	if v := o.get("dedup_window"); v != nil {
		c.DedupWindow, _ = d.duration(v, o.sub("dedup_window"))
	}
	return c, at
}

func (d *decoder) auth(n *yaml.Node, path string) Auth {
	a := Auth{Type: "none", Pos: d.pos(deref(n))}
	all := []string{"type", "secret", "username", "password", "token_url", "client_id", "client_secret", "scopes", "audience"}
	o := d.object(n, path, all...)
	if o == nil {
		return a
	}
	if !d.require(o, "type") {
		return a
	}
	t, ok := d.str(o.get("type"), o.sub("type"))
	if !ok {
		return a
	}
	required, known := authRequired[t]
	if !known {
		d.errorf(deref(o.get("type")), o.sub("type"), "unknown auth type %q%s; want one of %s", t, didYouMean(t, authTypes), strings.Join(authTypes, ", "))
		return a
	}
	a.Type = t
	allowed := append(append([]string{"type"}, required...), authOptional[t]...)
	for _, k := range all {
		if v := o.get(k); v != nil && !contains(allowed, k) {
			d.errorf(o.keys[k], path, "%s is not used by auth type %s", k, t)
		}
	}
	for _, k := range required {
		v := o.get(k)
		if v == nil {
			d.errorf(o.node, path, "auth type %s needs %s", t, k)
			continue
		}
		s, ok := d.str(v, o.sub(k))
		if !ok {
			continue
		}
		if s == "" {
			d.errorf(deref(v), o.sub(k), "must not be empty")
		}
		switch k {
		case "secret":
			a.Secret = s
		case "username":
			a.Username = s
		case "password":
			a.Password = s
		case "token_url":
			a.TokenURL = s
		case "client_id":
			a.ClientID = s
		case "client_secret":
			a.ClientSecret = s
		}
	}
	if v := o.get("scopes"); v != nil && t == "oauth2" {
		a.Scopes, _ = d.strList(v, o.sub("scopes"))
	}
	if v := o.get("audience"); v != nil && t == "oauth2" {
		a.Audience, _ = d.str(v, o.sub("audience"))
	}
	return a
}

var hostRE = regexp.MustCompile(`^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

func (d *decoder) network(n *yaml.Node, path string) (Network, []Pos) {
	var nw Network
	var at []Pos
	o := d.object(n, path, "allow_hosts", "allow_private")
	if o == nil {
		return nw, nil
	}
	if v := o.get("allow_hosts"); v != nil {
		hosts, _ := d.strList(v, o.sub("allow_hosts"))
		for i, h := range hosts {
			at = append(at, d.pos(deref(deref(v).Content[i])))
			if !hostRE.MatchString(h) {
				d.errorf(deref(deref(v).Content[i]), fmt.Sprintf("%s[%d]", o.sub("allow_hosts"), i), "want a host, host:port or *.domain (no scheme or path), got %q", h)
			}
		}
		nw.AllowHosts = hosts
	}
	if v := o.get("allow_private"); v != nil {
		nw.AllowPrivate, _ = d.boolean(v, o.sub("allow_private"))
	}
	return nw, at
}

var startRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (d *decoder) schedule(n *yaml.Node, path string) *Schedule {
	o := d.object(n, path, "every", "start", "timezone", "cron")
	if o == nil {
		return nil
	}
	s := &Schedule{Pos: d.pos(o.node)}
	every, cron := o.get("every"), o.get("cron")
	switch {
	case every == nil && cron == nil:
		d.errorf(o.node, path, "want exactly one of every or cron, got neither")
	case every != nil && cron != nil:
		d.errorf(o.keys["cron"], path, "want exactly one of every or cron, got both")
	}
	if every != nil {
		s.Every, _ = d.duration(every, o.sub("every"))
	}
	if cron != nil {
		if c, ok := d.str(cron, o.sub("cron")); ok {
			if err := checkCron(c); err != nil {
				d.errorf(deref(cron), o.sub("cron"), "%v", err)
			}
			s.Cron = c
		}
	}
	if v := o.get("start"); v != nil {
		if st, ok := d.str(v, o.sub("start")); ok {
			switch {
			case !startRE.MatchString(st):
				d.errorf(deref(v), o.sub("start"), "want a time of day HH:MM (00:00 to 23:59), got %q", st)
			case cron != nil:
				d.errorf(o.keys["start"], o.sub("start"), "only applies to every; a cron expression sets its own times")
			}
			s.Start = st
		}
	}
	if v := o.get("timezone"); v != nil {
		s.Timezone, _ = d.timezone(v, o.sub("timezone"))
	}
	return s
}
