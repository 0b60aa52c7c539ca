package config

import (
	"crypto/tls"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// TLS makes Junction serve HTTPS itself (Settings tls): cert is a PEM file
// holding the server certificate and any intermediates, key its PEM private
// key. Both are read at start; a renewed certificate needs a restart.
type TLS struct {
	Cert, Key string
	Pos       Pos
}

// edgeSettings decodes the Settings keys about the network edge: tls and
// trusted_proxies.
func (d *decoder) edgeSettings(o *object, s *Settings) {
	if v := o.get("tls"); v != nil {
		s.TLS = d.tlsSettings(v, o.sub("tls"))
	}
	if v := o.get("trusted_proxies"); v != nil {
		list, _ := d.strList(v, o.sub("trusted_proxies"))
		for i, e := range list {
			p, err := parseAllowIP(e)
			if err != nil {
				d.errorf(deref(deref(v).Content[i]), fmt.Sprintf("%s[%d]", o.sub("trusted_proxies"), i), "%v", err)
				continue
			}
			s.TrustedProxies = append(s.TrustedProxies, p)
		}
	}
}

func (d *decoder) tlsSettings(n *yaml.Node, path string) *TLS {
	o := d.object(n, path, "cert", "key")
	if o == nil {
		return nil
	}
	okCert, okKey := d.require(o, "cert"), d.require(o, "key")
	if !okCert || !okKey {
		return nil
	}
	t := &TLS{Pos: d.pos(o.node)}
	var pems [2][]byte
	for i, k := range []string{"cert", "key"} {
		v := o.get(k)
		file, ok := d.str(v, o.sub(k))
		if !ok {
			return nil
		}
		if file == "" {
			d.errorf(deref(v), o.sub(k), "want the path of a PEM file, got an empty string")
			return nil
		}
		if i == 0 {
			t.Cert = file
		} else {
			t.Key = file
		}
		// An unresolved ${VAR} (junction validate without the production
		// environment) names no file yet.
		if d.keepUnset && strings.Contains(file, "${") {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			d.errorf(deref(v), o.sub(k), "read %s: %v", file, unwrapPathError(err))
			return nil
		}
		pems[i] = b
	}
	if pems[0] == nil || pems[1] == nil {
		return t
	}
	if _, err := tls.X509KeyPair(pems[0], pems[1]); err != nil {
		d.errorf(o.node, path, "cert %s and key %s: %v", t.Cert, t.Key, err)
	}
	return t
}
