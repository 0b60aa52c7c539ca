package stats

import (
	"sort"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Quality is the null-value share of a set of cells. A cell is one field of
// one record; it is null when the field is missing from the record, null, or
// "" (an empty CSV cell).
type Quality struct {
	Cells      int64   `json:"cells"`
	NullValues int64   `json:"nullValues"`
	NullPct    float64 `json:"nullPercent"`
	// DataQuality is the percentage of cells that hold a value
	// (100 - NullPct); 100 when there are no cells.
	DataQuality float64 `json:"dataQuality"`
}

func quality(cells, nulls int64) Quality {
	q := Quality{Cells: cells, NullValues: nulls, DataQuality: 100}
	if cells > 0 {
		q.NullPct = 100 * float64(nulls) / float64(cells)
		q.DataQuality = 100 - q.NullPct
	}
	return q
}

// DayCount is the number of records ingested on one day.
type DayCount struct {
	Date    string `json:"date"`
	Records int64  `json:"records"`
}

// ConnectionStats is the overview of one connection.
type ConnectionStats struct {
	Connection    string    `json:"connection"`
	ConnectedAt   time.Time `json:"connectedAt,omitzero"`
	LastRecordAt  time.Time `json:"lastRecordAt,omitzero"`
	MetadataAt    time.Time `json:"metadataAt,omitzero"`
	TotalRecords  int64     `json:"totalRecords"`
	TotalEntities int       `json:"totalEntities"`
	Quality
	// Daily holds the last 7 days, oldest first, today last.
	Daily    []DayCount      `json:"daily"`
	Entities []EntitySummary `json:"entities"`
}

// EntitySummary is one entity's line in the connection overview.
type EntitySummary struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"displayName,omitempty"`
	Created     time.Time `json:"created,omitzero"`
	Updated     time.Time `json:"updated,omitzero"`
	Rows        int64     `json:"rows"`
	Fields      int       `json:"fields"`
	Quality
}

// EntityStats is one entity with its fields and metadata table.
type EntityStats struct {
	Connection string `json:"connection"`
	EntitySummary
	FieldList []FieldSummary `json:"fieldList"`
	// Metadata is the connector's description of the entity's fields
	// (fetched with --metadata-only), empty when none was fetched.
	Metadata []MetadataRow `json:"metadata"`
}

// MetadataRow is one row of an entity's metadata table.
type MetadataRow struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName,omitempty"`
	APILabel    string `json:"apiLabel,omitempty"`
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	ReadOnly    bool   `json:"readOnly"`
}

// FieldSummary is one field's line in the entity view.
type FieldSummary struct {
	Name    string    `json:"name"`
	Type    string    `json:"type"` // the most frequent: string number boolean object array; "" when only nulls
	Updated time.Time `json:"updated,omitzero"`
	// Rows counts the entity's records; Values those where the field holds
	// a value; NullValues the rest (missing, null or "").
	Rows int64 `json:"rows"`
	// Present counts the records that have the key at all (null included).
	Present    int64   `json:"present"`
	Values     int64   `json:"values"`
	NullValues int64   `json:"nullValues"`
	NullPct    float64 `json:"nullPercent"`
}

// FieldStats is one field in detail.
type FieldStats struct {
	Connection string `json:"connection"`
	Entity     string `json:"entity"`
	FieldSummary
	Types map[string]int64 `json:"types"`
	Top   []TopValue       `json:"topValues"`
	// TopExact is true while the field has had at most k distinct values:
	// the counts are then exact, not estimates.
	TopExact bool         `json:"topExact"`
	Metadata *MetadataRow `json:"metadata,omitempty"`
}

// TopValue is a frequent value; Count overestimates by at most Error.
type TopValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
	Error int64  `json:"error,omitempty"`
}

// entityQuality: every field of every row is a cell; a field that appeared
// only later counts as missing (null) in the rows before.
func (e *entityStats) quality() Quality {
	cells := e.Rows * int64(len(e.Fields))
	var nulls int64
	for _, f := range e.Fields {
		nulls += e.Rows - f.Values
	}
	return quality(cells, nulls)
}

func (e *entityStats) summary() EntitySummary {
	s := EntitySummary{Name: e.Name, Created: e.Created, Updated: e.Updated, Rows: e.Rows, Fields: len(e.Fields), Quality: e.quality()}
	if e.Meta != nil {
		s.DisplayName = e.Meta.DisplayName
	}
	return s
}

func (f *fieldStats) summary(rows int64) FieldSummary {
	s := FieldSummary{Name: f.Name, Updated: f.Updated, Rows: rows, Present: f.Rows, Values: f.Values, NullValues: rows - f.Values}
	if rows > 0 {
		s.NullPct = 100 * float64(s.NullValues) / float64(rows)
	}
	best := int64(0)
	for k := kindString; k <= kindArray; k++ {
		if f.Types[k] > best {
			best, s.Type = f.Types[k], typeNames[k]
		}
	}
	return s
}

// Connection returns the overview of a connection; ok is false when
// nothing is known of it.
func (r *Recorder) Connection(name string) (ConnectionStats, bool) {
	r.mu.RLock()
	c := r.conns[name]
	r.mu.RUnlock()
	out := ConnectionStats{Connection: name, Daily: r.lastWeek(nil), Entities: []EntitySummary{}, Quality: quality(0, 0)}
	if c == nil {
		return out, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out.ConnectedAt, out.LastRecordAt, out.MetadataAt = c.ConnectedAt, c.LastRecordAt, c.MetadataAt
	out.Daily = r.lastWeek(c.Days)
	var cells, nulls int64
	for _, e := range c.Entities {
		s := e.summary()
		out.Entities = append(out.Entities, s)
		out.TotalRecords += e.Rows
		cells += s.Cells
		nulls += s.NullValues
	}
	sort.Slice(out.Entities, func(i, j int) bool { return out.Entities[i].Name < out.Entities[j].Name })
	out.TotalEntities = len(out.Entities)
	out.Quality = quality(cells, nulls)
	return out, true
}

// lastWeek returns the 7 days ending today, zero-filled.
func (r *Recorder) lastWeek(days []dayCount) []DayCount {
	y, m, d := r.o.Now().In(r.o.Location).Date()
	out := make([]DayCount, 7)
	for i := range out {
		date := time.Date(y, m, d-6+i, 12, 0, 0, 0, r.o.Location).Format("2006-01-02")
		out[i] = DayCount{Date: date}
		for _, dc := range days {
			if dc.Date == date {
				out[i].Records = dc.Records
			}
		}
	}
	return out
}

// Entity returns one entity in detail.
func (r *Recorder) Entity(connection, entity string) (EntityStats, bool) {
	r.mu.RLock()
	c := r.conns[connection]
	r.mu.RUnlock()
	if c == nil {
		return EntityStats{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.Entities[entity]
	if e == nil {
		return EntityStats{}, false
	}
	out := EntityStats{Connection: connection, EntitySummary: e.summary(), FieldList: []FieldSummary{}, Metadata: []MetadataRow{}}
	for _, f := range e.Fields {
		out.FieldList = append(out.FieldList, f.summary(e.Rows))
	}
	sort.Slice(out.FieldList, func(i, j int) bool { return out.FieldList[i].Name < out.FieldList[j].Name })
	if e.Meta != nil {
		for _, mf := range e.Meta.Fields {
			out.Metadata = append(out.Metadata, metadataRow(mf))
		}
	}
	return out, true
}

func metadataRow(f pluginsdk.Field) MetadataRow {
	return MetadataRow{Name: f.Name, DisplayName: f.DisplayName, APILabel: f.APILabel, Type: f.Type, Required: f.Required, ReadOnly: f.ReadOnly}
}

// Field returns one field in detail with its top values (at most k).
func (r *Recorder) Field(connection, entity, field string) (FieldStats, bool) {
	r.mu.RLock()
	c := r.conns[connection]
	r.mu.RUnlock()
	if c == nil {
		return FieldStats{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.Entities[entity]
	if e == nil {
		return FieldStats{}, false
	}
	f := e.Fields[field]
	if f == nil {
		return FieldStats{}, false
	}
	out := FieldStats{Connection: connection, Entity: entity, FieldSummary: f.summary(e.Rows), Types: map[string]int64{}, Top: []TopValue{}, TopExact: f.top.evictions == 0}
	for k := kindString; k <= kindArray; k++ {
		if f.Types[k] > 0 {
			out.Types[typeNames[k]] = f.Types[k]
		}
	}
	for _, tc := range f.top.top(0) {
		out.Top = append(out.Top, TopValue{Value: tc.Value, Count: tc.Count, Error: tc.Error})
	}
	if e.Meta != nil {
		for _, mf := range e.Meta.Fields {
			if mf.Name == field {
				row := metadataRow(mf)
				out.Metadata = &row
			}
		}
	}
	return out, true
}
