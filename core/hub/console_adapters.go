package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/server/console"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// The console renders its data overview and connection buttons through the
// small interfaces of console/sources.go; these adapters serve them from the
// stats recorder, the log and the fetch runner, the same sources as the API.

// consoleLatest is how many latest records the entity page asks the log
// for (the console shows at most 20).
const consoleLatest = 20

// consoleScan bounds how many log events an entity page reads back looking
// for the latest records, so a quiet connection on a busy hub costs a
// bounded read (the records API uses the same bound).
const consoleScan = 50_000

// statsValueCap is the length from which stats may have cut a top value (it
// keeps at most 128 bytes, cut on a rune boundary): two such values may be
// one counter, so their count of distinct values is not exact.
const statsValueCap = 128 - 3

// consoleStats implements console.Stats.
type consoleStats struct {
	rec *stats.Recorder
	log store.Log
	loc *time.Location // the org time zone, in which stats count days
}

// newConsoleStats serves the console's data overview from rec and lg; loc
// must be the time zone rec counts days in (nil is UTC, as for stats.Open).
func newConsoleStats(rec *stats.Recorder, lg store.Log, loc *time.Location) consoleStats {
	if loc == nil {
		loc = time.UTC
	}
	return consoleStats{rec: rec, log: lg, loc: loc}
}

func (s consoleStats) ConnectionStats(_ context.Context, connection string) (*console.ConnectionStats, error) {
	cs, ok := s.rec.Connection(connection)
	if !ok {
		return nil, fmt.Errorf("stats of connection %q: %w", connection, store.ErrNotFound)
	}
	out := &console.ConnectionStats{
		ConnectedAt: cs.ConnectedAt, LastRecordAt: cs.LastRecordAt, TotalRecords: cs.TotalRecords,
		Entities: make([]console.EntityCount, 0, len(cs.Entities)),
		PerDay:   make([]console.DayCount, 0, len(cs.Daily)),
	}
	for _, e := range cs.Entities {
		out.Entities = append(out.Entities, console.EntityCount{Name: e.Name, Records: e.Rows})
	}
	// Stats measure quality over cells (every field of every record): the
	// share holding a value. With no cells there is nothing to tell.
	if cs.Cells > 0 {
		q := cs.DataQuality / 100
		out.Quality = &q
	}
	for _, d := range cs.Daily {
		day, err := time.ParseInLocation(time.DateOnly, d.Date, s.loc)
		if err != nil {
			return nil, fmt.Errorf("stats of connection %q: day %q: %w", connection, d.Date, err)
		}
		out.PerDay = append(out.PerDay, console.DayCount{Day: day, Records: d.Records})
	}
	return out, nil
}

func (s consoleStats) EntityStats(ctx context.Context, connection, entity string) (*console.EntityStats, error) {
	es, ok := s.rec.Entity(connection, entity)
	if !ok {
		return nil, fmt.Errorf("stats of entity %q of connection %q: %w", entity, connection, store.ErrNotFound)
	}
	out := &console.EntityStats{Name: es.Name, DisplayName: es.DisplayName, Records: es.Rows}
	// The connector's metadata comes first, in its order; then the fields
	// seen in records that it does not describe, with their observed type.
	described := map[string]bool{}
	for _, m := range es.Metadata {
		out.Fields = append(out.Fields, metadataField(m))
		described[m.Name] = true
	}
	for _, f := range es.FieldList {
		if !described[f.Name] {
			out.Fields = append(out.Fields, pluginsdk.Field{Name: f.Name, Type: f.Type})
		}
	}
	recs, err := stats.LatestRecords(ctx, s.log, connection, entity, consoleLatest, consoleScan)
	if err != nil {
		return nil, fmt.Errorf("latest records of %s entity %s: %w", connection, entity, err)
	}
	out.Latest = make([]json.RawMessage, len(recs))
	for i, r := range recs {
		out.Latest[i] = r.Record
	}
	return out, nil
}

func (s consoleStats) FieldStats(_ context.Context, connection, entity, field string) (*console.FieldStats, error) {
	fs, ok := s.rec.Field(connection, entity, field)
	if !ok {
		return nil, fmt.Errorf("stats of field %q of %s entity %s: %w", field, connection, entity, store.ErrNotFound)
	}
	out := &console.FieldStats{Field: pluginsdk.Field{Name: fs.Name, Type: fs.Type}, Rows: fs.Rows, Values: fs.Values, Top: make([]console.ValueCount, 0, len(fs.Top))}
	if fs.Metadata != nil {
		f := metadataField(*fs.Metadata)
		if f.Type == "" {
			f.Type = fs.Type
		}
		out.Field = f
	}
	var counted int64
	exact := fs.TopExact
	for _, t := range fs.Top {
		out.Top = append(out.Top, console.ValueCount{Value: t.Value, Count: t.Count})
		counted += t.Count
		exact = exact && len(t.Value) < statsValueCap
	}
	// The count of distinct values is told only when it is exact: no
	// counter was evicted or holds a cut value, and the top list holds
	// every value (objects and arrays are values, never top values).
	if exact && counted == fs.Values {
		out.Distinct = int64(len(fs.Top))
	}
	return out, nil
}

func metadataField(m stats.MetadataRow) pluginsdk.Field {
	return pluginsdk.Field{Name: m.Name, DisplayName: m.DisplayName, APILabel: m.APILabel, Type: m.Type, Required: m.Required, ReadOnly: m.ReadOnly}
}

// consoleOps implements console.Operations with the fetch runner and the
// connection manager.
type consoleOps struct {
	fetch *fetch.Runner
	conns *connector.Manager
}

func (o consoleOps) Fetch(ctx context.Context, connection string) (string, error) {
	job, err := o.fetch.Start(ctx, connection, fetch.RunOptions{Trigger: fetch.TriggerManual})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Fetch of %s started (job %s); follow it with `junction connection jobs %s`.", connection, job.ID, connection), nil
}

func (o consoleOps) FetchMetadata(ctx context.Context, connection string) (string, error) {
	job, err := o.fetch.Start(ctx, connection, fetch.RunOptions{MetadataOnly: true, Trigger: fetch.TriggerManual})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("Metadata fetch of %s started (job %s); its entities and fields show here when it completes.", connection, job.ID), nil
}

// Reconnect opens the connection's connector again with the credentials it
// already has (the YAML's, or those stored by a reconnect through the CLI or
// API); entering new credentials stays in the CLI and API, which keep
// secrets out of HTML forms.
func (o consoleOps) Reconnect(ctx context.Context, connection string) (string, error) {
	if _, ok := o.conns.Get(connection); !ok {
		return "", fmt.Errorf("connection %q is not configured: %w", connection, store.ErrNotFound)
	}
	if err := o.conns.Reconfigure(ctx, connection); err != nil {
		return "", err
	}
	return fmt.Sprintf("Connection %s reconnected with its current credentials. To enter new ones, run `junction connection reconnect %s`.", connection, connection), nil
}

var (
	_ console.Stats      = consoleStats{}
	_ console.Operations = consoleOps{}
)
