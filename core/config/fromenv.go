package config

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// envPaths records which scalars below a connection's config came from
// ${VAR}. Such values are usually credentials kept out of the files (an
// X-API-Key header, a bearer token), so whoever shows a connection can hide
// them without guessing from names alone (see Connection.FromEnv).
//
// Aliases to mappings or lists are not followed: a recursive alias or an
// alias bomb would make this walk loop or explode (the decoder reports
// those), and credentials are not shared through anchors in practice.
func (d *decoder) envPaths(n *yaml.Node, prefix []string, out map[string]bool) {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil || n.Alias.Kind != yaml.ScalarNode {
			return
		}
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.envPaths(n.Content[i+1], append(prefix[:len(prefix):len(prefix)], n.Content[i].Value), out)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.envPaths(c, append(prefix[:len(prefix):len(prefix)], strconv.Itoa(i)), out)
		}
	case yaml.ScalarNode:
		if d.interpolated[n] {
			out[envKey(prefix)] = true
		}
	}
}

// envKey joins a config path; NUL cannot occur in a YAML key.
func envKey(path []string) string { return strings.Join(path, "\x00") }

// FromEnv reports whether the config value at path (map keys, and list
// indexes as decimal strings, from the top of spec.config) was written as
// ${VAR} in the file.
func (c *Connection) FromEnv(path ...string) bool {
	return c.fromEnv[envKey(path)]
}

// envSet is envPaths into a new set, nil when no value came from ${VAR}.
func (d *decoder) envSet(n *yaml.Node) map[string]bool {
	out := map[string]bool{}
	d.envPaths(n, nil, out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// WithFromEnv reports whether the task's with value at path (map keys,
// and list indexes as decimal strings) was written as ${VAR}: a dry run
// shows such values redacted, as they are usually credentials.
func (t *Task) WithFromEnv(path ...string) bool {
	return t.fromEnv[envKey(path)]
}
