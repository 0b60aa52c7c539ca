package connector

import (
	"strconv"
	"strings"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/pluginsdk"
)

// Redacted is what a hidden config value is shown as.
const Redacted = "<redacted>"

// credentialWords mark a key (a config key or an HTTP header name) whose
// value is a credential. Matching is by substring, case-insensitively, so
// X-API-Key, Proxy-Authorization and Set-Cookie are all caught.
var credentialWords = []string{"secret", "password", "passwd", "token", "key", "authorization", "cookie", "credential", "signature", "session"}

// LooksSecret reports whether a key's name says its value is a credential.
func LooksSecret(key string) bool {
	k := strings.ToLower(key)
	for _, w := range credentialWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// RedactedConfig is the connection's config as the API, the CLI and the
// console show it: the one place that decides what is hidden. It hides
//   - the top-level values the connector's spec types as secret;
//   - at any depth, values whose key names a credential (LooksSecret);
//   - inside any headers map, values written as ${VAR}: outbound headers
//     carry API keys under names no list can foresee, and a value kept out
//     of the file is one the operator chose not to write down.
//
// The input is never modified.
func RedactedConfig(c *config.Connection, spec pluginsdk.Spec) map[string]any {
	if c == nil || c.Config == nil {
		return nil
	}
	secret := map[string]bool{}
	for _, p := range spec.Config {
		if p.Type == pluginsdk.TypeSecret {
			secret[p.Name] = true
		}
	}
	out := make(map[string]any, len(c.Config))
	for k, v := range c.Config {
		if secret[k] {
			out[k] = Redacted
			continue
		}
		out[k] = redactValue(c, []string{k}, k, v, false)
	}
	return out
}

// redactValue redacts v found at path under key; inHeaders says v is a
// value of a headers map.
func redactValue(c *config.Connection, path []string, key string, v any, inHeaders bool) any {
	if LooksSecret(key) {
		return Redacted
	}
	switch x := v.(type) {
	case map[string]any:
		headers := strings.EqualFold(key, "headers")
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = redactValue(c, appendPath(path, k), k, e, headers)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			// A list item has no name of its own: it is judged by its
			// list's key, which already passed LooksSecret.
			l[i] = redactValue(c, appendPath(path, strconv.Itoa(i)), "", e, inHeaders)
		}
		return l
	}
	if inHeaders && c.FromEnv(path...) {
		return Redacted
	}
	return v
}

func appendPath(path []string, k string) []string {
	return append(path[:len(path):len(path)], k)
}
