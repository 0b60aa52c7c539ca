package console

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

type connectionsView struct {
	base
	Cards    []*connCard
	HasStats bool
	HasOps   bool
}

// connCard is one connection in the data overview.
type connCard struct {
	Name, Connector, SpecName, Version, Direction, Auth, HookURL, Schedule string
	Roles                                                                  []string
	CanFetch, CanMetadata                                                  bool
	Stats                                                                  *ConnectionStats
	StatsErr                                                               string
	Chart                                                                  chart
	Entities                                                               []entityRow
	Workflows                                                              []string
	Config                                                                 []configRow
}

type entityRow struct {
	Name, DisplayName string
	Records           int64
	Counted           bool
	Fields            int
}

type configRow struct{ Key, Value string }

func (con *Console) connectionsPage(c *fiber.Ctx) error {
	v := &connectionsView{HasStats: con.o.Stats != nil, HasOps: con.o.Ops != nil}
	v.Title, v.Section = "Data overview", "connections"
	for _, conn := range con.o.Connections.All() {
		v.Cards = append(v.Cards, con.card(c, conn))
	}
	return con.render(c, fiber.StatusOK, "connections", v)
}

func (con *Console) card(c *fiber.Ctx, conn *connector.Conn) *connCard {
	cd := &connCard{
		Name: conn.Name(), Connector: conn.Config.Connector, SpecName: conn.Spec.Name, Version: conn.Spec.Version,
		Direction: string(conn.Spec.Direction), Auth: conn.Config.Auth.Type, Roles: conn.Spec.Roles,
		CanFetch: conn.Spec.HasRole(pluginsdk.RoleFetch), CanMetadata: conn.Spec.HasRole(pluginsdk.RoleMetadata),
		Schedule: scheduleText(conn.Config.Schedule),
	}
	if cd.Auth == "" {
		// Not "none": without auth the connection receives no pushes.
		cd.Auth = "not set"
	}
	if conn.ReceivesPushes() {
		base := con.o.PublicURL
		if base == "" {
			base = c.BaseURL()
		}
		cd.HookURL = strings.TrimSuffix(base, "/") + "/hooks/" + conn.Name()
	}
	for _, wf := range con.bundle().Workflows {
		if wf.Trigger.Connection == conn.Name() {
			cd.Workflows = append(cd.Workflows, wf.Name)
		}
	}
	shown := connector.RedactedConfig(conn.Config, conn.Spec)
	for _, k := range sortedKeys(shown) {
		cd.Config = append(cd.Config, configRow{Key: k, Value: configValue(shown[k])})
	}
	counted := map[string]int64{}
	if con.o.Stats != nil {
		st, err := con.o.Stats.ConnectionStats(c.UserContext(), conn.Name())
		switch {
		case err != nil && !isNotFound(err):
			cd.StatsErr = err.Error()
		case st != nil:
			cd.Stats = st
			cd.Chart = barChart(st.PerDay)
			for _, e := range st.Entities {
				counted[e.Name] = e.Records
			}
		}
	}
	seen := map[string]bool{}
	for _, e := range conn.Spec.Entities {
		n, ok := counted[e.Name]
		cd.Entities = append(cd.Entities, entityRow{Name: e.Name, DisplayName: e.DisplayName, Records: n, Counted: ok, Fields: len(e.Fields)})
		seen[e.Name] = true
	}
	if cd.Stats != nil {
		for _, e := range cd.Stats.Entities {
			if !seen[e.Name] {
				cd.Entities = append(cd.Entities, entityRow{Name: e.Name, Records: e.Records, Counted: true})
			}
		}
	}
	return cd
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// configValue renders a value of connector.RedactedConfig for the page.
func configValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

type connectionView struct {
	base
	Card   *connCard
	HasOps bool
	// Setup is how to point the sender at the connection (setup.go).
	Setup connector.Setup
}

func (con *Console) connectionPage(c *fiber.Ctx) error {
	conn, ok := con.o.Connections.Get(c.Params("name"))
	if !ok {
		return con.notFound(c, fmt.Sprintf("There is no connection %q.", c.Params("name")))
	}
	return con.renderConnection(c, conn, false)
}

// connectionJSON is "show JSON": the connection as the API would describe
// it, secrets redacted, with its statistics when known.
func (con *Console) connectionJSON(c *fiber.Ctx) error {
	conn, ok := con.o.Connections.Get(c.Params("name"))
	if !ok {
		return con.notFound(c, fmt.Sprintf("There is no connection %q.", c.Params("name")))
	}
	cd := con.card(c, conn)
	cfg := map[string]string{}
	for _, r := range cd.Config {
		cfg[r.Key] = r.Value
	}
	out := map[string]any{
		"name": cd.Name, "connector": cd.Connector, "spec": conn.Spec, "auth": cd.Auth,
		"config": cfg, "workflows": cd.Workflows,
	}
	if cd.HookURL != "" {
		out["hookUrl"] = cd.HookURL
	}
	if cd.Stats != nil {
		out["stats"] = cd.Stats
	}
	if cd.StatsErr != "" {
		out["statsError"] = cd.StatsErr
	}
	b, err := json.MarshalIndent(map[string]any{"connection": out}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode connection %s: %w", cd.Name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(b)
}

// connectionOp runs one of the overview's buttons and returns to the page
// the form came from.
func (con *Console) connectionOp(op string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		name := c.Params("name")
		s := sessionOf(c)
		back := safeNext(c.FormValue("back"))
		if back == "/runs" {
			back = "/connections/" + name
		}
		conn, ok := con.o.Connections.Get(name)
		if !ok {
			return con.notFound(c, fmt.Sprintf("There is no connection %q.", name))
		}
		if con.o.Ops == nil {
			s.setFlash("error", "Connection operations are not available yet in this hub.")
			return c.Redirect(back, fiber.StatusSeeOther)
		}
		var (
			msg string
			err error
		)
		switch op {
		case "fetch":
			if !conn.Spec.HasRole(pluginsdk.RoleFetch) {
				s.setFlash("error", "Connection %s does not fetch records (its connector %s only %s).", name, conn.Spec.Name, strings.Join(conn.Spec.Roles, ", "))
				return c.Redirect(back, fiber.StatusSeeOther)
			}
			msg, err = con.o.Ops.Fetch(c.UserContext(), name)
		case "metadata":
			if !conn.Spec.HasRole(pluginsdk.RoleMetadata) {
				s.setFlash("error", "Connection %s has no metadata to fetch.", name)
				return c.Redirect(back, fiber.StatusSeeOther)
			}
			msg, err = con.o.Ops.FetchMetadata(c.UserContext(), name)
		case "reconnect":
			msg, err = con.o.Ops.Reconnect(c.UserContext(), name)
		}
		if err != nil {
			con.log.Warn("connection operation failed", "connection", name, "op", op, "err", err)
			s.setFlash("error", "%s %s failed: %v", opLabel(op), name, err)
		} else {
			if msg == "" {
				msg = opLabel(op) + " " + name + ": started."
			}
			s.setFlash("notice", "%s", msg)
		}
		return c.Redirect(back, fiber.StatusSeeOther)
	}
}

func opLabel(op string) string {
	switch op {
	case "fetch":
		return "Fetch"
	case "metadata":
		return "Fetch metadata of"
	}
	return "Reconnect"
}
