package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// CORS lets web pages of other origins send to a connection from a browser
// (spec.cors). The server answers their preflight (OPTIONS) itself, adds
// the CORS headers to every answer to a listed origin, errors included, and
// refuses a request whose Origin is not listed with 403 before any body
// work. Requests without an Origin header (server SDKs, webhooks) are not
// affected.
//
//	cors:
//	  origins: [https://shop.example.com, "http://localhost:3000"]   # or ["*"]
//	  max_age: 2h          # how long a browser may cache a preflight
type CORS struct {
	// Origins are the allowed origins, normalised as browsers send them
	// (lower case, no default port); Any is true when "*" is listed.
	Origins []string
	Any     bool
	// MaxAge is Access-Control-Max-Age (default 2h, Chromium's cap).
	MaxAge time.Duration
	Pos    Pos
}

// DefaultCORSMaxAge is the longest preflight cache Chromium honours;
// Firefox allows up to 24h, which is maxCORSMaxAge.
const (
	DefaultCORSMaxAge = 2 * time.Hour
	maxCORSMaxAge     = 24 * time.Hour
	maxCORSOrigins    = 1000
)

// Allows reports whether a request's Origin header value is allowed.
// Browsers send the origin in lower case; a differently cased one is
// compared as the same origin.
func (c *CORS) Allows(origin string) bool {
	if c == nil || origin == "" {
		return false
	}
	if c.Any {
		return true
	}
	o := strings.ToLower(origin)
	for _, a := range c.Origins {
		if a == o {
			return true
		}
	}
	return false
}

func (d *decoder) cors(n *yaml.Node, path string) *CORS {
	o := d.object(n, path, "origins", "max_age")
	if o == nil {
		return nil
	}
	c := &CORS{Pos: d.pos(o.node), MaxAge: DefaultCORSMaxAge}
	if !d.require(o, "origins") {
		return nil
	}
	v := o.get("origins")
	list, ok := d.strList(v, o.sub("origins"))
	switch {
	case !ok:
		return nil
	case len(list) == 0:
		d.errorf(deref(v), o.sub("origins"), "an empty list allows no page; list the origins of the sites that send (https://shop.example.com), or leave cors out")
		return nil
	case len(list) > maxCORSOrigins:
		d.errorf(deref(v), o.sub("origins"), "%d entries; at most %d", len(list), maxCORSOrigins)
		return nil
	}
	for i, s := range list {
		at, sub := deref(deref(v).Content[i]), fmt.Sprintf("%s[%d]", o.sub("origins"), i)
		if s == "*" {
			c.Any = true
			continue
		}
		if d.keepUnset && strings.Contains(s, "${") {
			continue // junction validate without the production environment
		}
		norm, err := parseOrigin(s)
		if err != nil {
			d.errorf(at, sub, "%v", err)
			continue
		}
		c.Origins = append(c.Origins, norm)
	}
	if m := o.get("max_age"); m != nil {
		if age, ok := d.duration(m, o.sub("max_age")); ok {
			switch {
			case age < time.Second:
				d.errorf(deref(m), o.sub("max_age"), "want at least 1s (Access-Control-Max-Age counts whole seconds), got %s", age)
			case age > maxCORSMaxAge:
				d.errorf(deref(m), o.sub("max_age"), "want at most 24h: browsers cap it (Chromium at 2h, Firefox at 24h), got %s", age)
			default:
				c.MaxAge = age
			}
		}
	}
	return c
}

// parseOrigin checks an origin as a browser serialises it in the Origin
// header: scheme://host[:port], nothing after. It returns it in lower case
// without a default port, since that is what browsers send.
func parseOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("want an origin scheme://host[:port] such as https://shop.example.com, got %q", s)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", fmt.Errorf("%q: want an http or https origin", s)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q: an origin has no user name or password", s)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.HasSuffix(s, "#") {
		return "", fmt.Errorf("%q: an origin has no path, query or fragment; did you mean %q?", s, scheme+"://"+u.Host)
	}
	if strings.Contains(u.Host, "*") {
		return "", fmt.Errorf("%q: wildcards are not supported in an origin; list each origin, or \"*\" alone to allow every page", s)
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if u.Host != u.Hostname() && port == "" && !strings.HasSuffix(u.Host, "]") {
		return "", fmt.Errorf("%q: empty port", s)
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		return scheme + "://" + host, nil
	}
	return scheme + "://" + host + ":" + port, nil
}

// checkCORS refuses a cors block that could never apply: on a connection
// without auth (it receives no pushes) or whose connector does not receive.
func (l *loader) checkCORS(c *Connection) {
	if c.CORS == nil {
		return
	}
	if c.Auth.Type == "" {
		l.errorAt(c.CORS.Pos, "spec.cors: connection %s has no auth block, so it receives no pushes and cors would never apply; add spec.auth", c.Name)
		return
	}
	rc, ok := l.check.(ReceiveChecker)
	if !ok || !connectorRE.MatchString(c.Connector) {
		return
	}
	if receives, checkable := rc.Receives(c.Connector); checkable && !receives {
		l.errorAt(c.CORS.Pos, "spec.cors: connector %s does not receive pushes, so cors would never apply", c.Connector)
	}
}
