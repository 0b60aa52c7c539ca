package console

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

// Latest records show at most this many rows and columns.
const (
	maxLatestRows    = 20
	maxLatestColumns = 10
	maxCellText      = 80
)

type entityView struct {
	base
	Conn, Entity, DisplayName string
	HasStats                  bool
	StatsErr                  string
	Records                   int64
	Counted                   bool
	Fields                    []pluginsdk.Field
	Columns                   []string
	Rows                      [][]string
	LatestJSON                string
}

// specEntity finds an entity in the connector's declared metadata.
func specEntity(conn *connector.Conn, name string) (pluginsdk.Entity, bool) {
	for _, e := range conn.Spec.Entities {
		if e.Name == name {
			return e, true
		}
	}
	return pluginsdk.Entity{}, false
}

func (con *Console) entityPage(c *fiber.Ctx) error {
	name, entity := c.Params("name"), c.Params("entity")
	conn, ok := con.o.Connections.Get(name)
	if !ok {
		return con.notFound(c, fmt.Sprintf("There is no connection %q.", name))
	}
	v := &entityView{Conn: name, Entity: entity, HasStats: con.o.Stats != nil}
	v.Title, v.Section = entity+" — "+name, "connections"
	declared, known := specEntity(conn, entity)
	v.DisplayName, v.Fields = declared.DisplayName, declared.Fields
	if con.o.Stats != nil {
		st, err := con.o.Stats.EntityStats(c.UserContext(), name, entity)
		switch {
		case err != nil && !isNotFound(err):
			v.StatsErr = err.Error()
		case st != nil:
			known = true
			v.Records, v.Counted = st.Records, true
			if len(st.Fields) > 0 {
				v.Fields = mergeFields(st.Fields, declared.Fields)
			}
			if st.DisplayName != "" {
				v.DisplayName = st.DisplayName
			}
			v.Columns, v.Rows = recordTable(st.Latest, v.Fields)
			if len(st.Latest) > 0 {
				latest := st.Latest[:min(len(st.Latest), maxLatestRows)]
				v.LatestJSON = jsonText(latest)
			}
		}
	}
	if !known && v.StatsErr == "" {
		return con.notFound(c, fmt.Sprintf("Connection %s has no entity %q.", name, entity))
	}
	return con.render(c, fiber.StatusOK, "entity", v)
}

// mergeFields completes fields the statistics report with what the
// connector's spec declares about them (display names, API labels).
func mergeFields(fields, declared []pluginsdk.Field) []pluginsdk.Field {
	byName := map[string]pluginsdk.Field{}
	for _, f := range declared {
		byName[f.Name] = f
	}
	out := make([]pluginsdk.Field, len(fields))
	for i, f := range fields {
		d := byName[f.Name]
		if f.DisplayName == "" {
			f.DisplayName = d.DisplayName
		}
		if f.APILabel == "" {
			f.APILabel = d.APILabel
		}
		if f.Type == "" {
			f.Type = d.Type
		}
		out[i] = f
	}
	return out
}

// recordTable lays records out as rows: the metadata's fields as columns
// when known, else the records' own keys.
func recordTable(records []json.RawMessage, fields []pluginsdk.Field) ([]string, [][]string) {
	records = records[:min(len(records), maxLatestRows)]
	objs := make([]map[string]any, 0, len(records))
	keys := map[string]bool{}
	for _, r := range records {
		var m map[string]any
		if json.Unmarshal(r, &m) != nil {
			m = map[string]any{"record": string(r)}
		}
		for k := range m {
			keys[k] = true
		}
		objs = append(objs, m)
	}
	var cols []string
	for _, f := range fields {
		if keys[f.Name] {
			cols = append(cols, f.Name)
		}
	}
	if len(cols) == 0 {
		for k := range keys {
			cols = append(cols, k)
		}
		sort.Strings(cols)
	}
	cols = cols[:min(len(cols), maxLatestColumns)]
	rows := make([][]string, 0, len(objs))
	for _, m := range objs {
		row := make([]string, len(cols))
		for i, k := range cols {
			row[i] = cellText(m[k])
		}
		rows = append(rows, row)
	}
	return cols, rows
}

func cellText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return shorten(t, maxCellText)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return shorten(string(b), maxCellText)
}

type fieldView struct {
	base
	Conn, Entity string
	Field        pluginsdk.Field
	HasStats     bool
	StatsErr     string
	Stats        *FieldStats
	Missing      int64
	Top          []topValue
}

type topValue struct {
	Value string
	Count int64
	// Share is the value's share of the rows, 0 to 1.
	Share float64
}

func (con *Console) fieldPage(c *fiber.Ctx) error {
	name, entity, field := c.Params("name"), c.Params("entity"), c.Params("field")
	conn, ok := con.o.Connections.Get(name)
	if !ok {
		return con.notFound(c, fmt.Sprintf("There is no connection %q.", name))
	}
	v := &fieldView{Conn: name, Entity: entity, Field: pluginsdk.Field{Name: field}, HasStats: con.o.Stats != nil}
	v.Title, v.Section = field+" — "+entity, "connections"
	known := false
	if e, ok := specEntity(conn, entity); ok {
		for _, f := range e.Fields {
			if f.Name == field {
				v.Field, known = f, true
			}
		}
	}
	if con.o.Stats != nil {
		st, err := con.o.Stats.FieldStats(c.UserContext(), name, entity, field)
		switch {
		case err != nil && !isNotFound(err):
			v.StatsErr = err.Error()
		case st != nil:
			known = true
			v.Stats = st
			if st.Field.Name != "" {
				v.Field = st.Field
			}
			v.Missing = max(st.Rows-st.Values, 0)
			for _, tv := range st.Top {
				share := 0.0
				if st.Rows > 0 {
					share = float64(tv.Count) / float64(st.Rows)
				}
				v.Top = append(v.Top, topValue{Value: tv.Value, Count: tv.Count, Share: share})
			}
		}
	}
	if !known && v.StatsErr == "" {
		return con.notFound(c, fmt.Sprintf("Entity %s of connection %s has no field %q.", entity, name, field))
	}
	return con.render(c, fiber.StatusOK, "field", v)
}
