package console

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

type pluginsView struct {
	base
	Plugins     []pluginRow
	HasRegistry bool
	RegistryErr string
}

type pluginRow struct {
	Name, Version, Kind, Description, SHA256 string
	Signer, Source, SourceDigest             string
	Capabilities                             []string
	Signed                                   bool
	InstalledAt                              time.Time
	UsedBy                                   []string
}

// pluginsPage lists the builtin connectors and the installed plugins, each
// with the connections that use it. A connection uses a connector when its
// connector's spec has the same name (and, for plugins, version).
func (con *Console) pluginsPage(c *fiber.Ctx) error {
	v := &pluginsView{HasRegistry: con.o.Plugins != nil}
	v.Title, v.Section = "Plugins", "plugins"
	conns := con.o.Connections.All()
	for _, b := range connector.Builtins() {
		spec := b.New().Spec()
		row := pluginRow{Name: b.Name, Version: spec.Version, Kind: "builtin", Description: spec.Description, Capabilities: capabilities(spec)}
		for _, conn := range conns {
			if conn.Config.Connector == b.Name {
				row.UsedBy = append(row.UsedBy, conn.Name())
			}
		}
		v.Plugins = append(v.Plugins, row)
	}
	if con.o.Plugins != nil {
		list, err := con.o.Plugins.List(c.UserContext())
		if err != nil {
			v.RegistryErr = err.Error()
		}
		for _, p := range list {
			row := pluginRow{
				Name: p.Name, Version: p.Version, Kind: p.Kind, Description: p.Description, SHA256: p.SHA256,
				Capabilities: p.Capabilities, Signed: p.Signed, InstalledAt: p.InstalledAt,
				Signer: p.Signer, Source: p.Source, SourceDigest: p.SourceDigest,
			}
			for _, conn := range conns {
				if _, builtin := connector.LookupBuiltin(conn.Config.Connector); builtin {
					continue
				}
				if conn.Spec.Name == p.Name && (conn.Spec.Version == "" || conn.Spec.Version == p.Version) && usesForm(conn.Config.Connector, list, p) {
					row.UsedBy = append(row.UsedBy, conn.Name())
				}
			}
			v.Plugins = append(v.Plugins, row)
		}
	}
	sort.SliceStable(v.Plugins, func(i, j int) bool {
		a, b := v.Plugins[i], v.Plugins[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Version < b.Version
	})
	return con.render(c, fiber.StatusOK, "plugins", v)
}

// usesForm reports whether a connection written as connector (name,
// name@version or name@version/form) runs plugin p when both forms of its
// version may be installed: the pinned form, or else the preferred one,
// which the registry lists first for each version.
func usesForm(connector string, list []PluginInfo, p PluginInfo) bool {
	if _, form, pinned := strings.Cut(connector, "/"); pinned {
		return form == p.Kind
	}
	for _, q := range list {
		if q.Name == p.Name && q.Version == p.Version {
			return q.Kind == p.Kind
		}
	}
	return true
}

// capabilities lists a connector's roles, with its actions spelled out.
func capabilities(s pluginsdk.Spec) []string {
	var out []string
	for _, r := range s.Roles {
		if r == pluginsdk.RolePerform && len(s.Actions) > 0 {
			names := make([]string, len(s.Actions))
			for i, a := range s.Actions {
				names[i] = a.Name
			}
			out = append(out, fmt.Sprintf("perform: %s", strings.Join(names, ", ")))
			continue
		}
		out = append(out, r)
	}
	return out
}
