package stats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// DefaultEntity names the records of a connection whose events carry no
// entity (no "entity" in the payload and no event type).
const DefaultEntity = "default"

// Options configures a Recorder.
type Options struct {
	// KV keeps the stats across restarts (keys "stats/<connection>").
	KV store.KV
	// Location decides which day a record counts for (records per day).
	// Default UTC; the hub passes the organisation's time zone.
	Location *time.Location
	// FlushInterval is how often changed stats are saved. Default 10s.
	FlushInterval time.Duration
	// TopK is the number of top values tracked per field. Default 32.
	TopK   int
	Logger *slog.Logger
	// Now is the clock (the 7-day window ends today). Default time.Now.
	Now func() time.Time
}

// Recorder keeps the data overview: per connection, entity and field
// counts, updated as records are ingested. See doc.go.
type Recorder struct {
	o       Options
	log     *slog.Logger
	mu      sync.RWMutex
	conns   map[string]*connStats
	scratch sync.Pool // *[]member

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// connStats is one connection's overview; mu guards everything in it.
type connStats struct {
	mu           sync.Mutex
	Name         string                  `json:"name"`
	ConnectedAt  time.Time               `json:"connectedAt,omitzero"`
	LastRecordAt time.Time               `json:"lastRecordAt,omitzero"`
	MetadataAt   time.Time               `json:"metadataAt,omitzero"`
	Days         []dayCount              `json:"days"` // ascending, at most keepDays
	Entities     map[string]*entityStats `json:"entities"`

	dirty            bool
	dayStart, dayEnd time.Time // the day Days[dayIdx] covers
	dayIdx           int
}

type dayCount struct {
	Date    string `json:"date"` // YYYY-MM-DD in Options.Location
	Records int64  `json:"records"`
}

// keepDays is one more than the 7 shown, so that today plus six full past
// days are always there.
const keepDays = 8

type entityStats struct {
	Name    string                 `json:"name"`
	Created time.Time              `json:"created,omitzero"`
	Updated time.Time              `json:"updated,omitzero"`
	Rows    int64                  `json:"rows"`
	Fields  map[string]*fieldStats `json:"fields"`
	Meta    *pluginsdk.Entity      `json:"meta,omitempty"`

	// order is the field sequence of the last record: records of one
	// entity (CSV rows above all) mostly repeat it, and comparing a name is
	// cheaper than hashing it for a map lookup.
	order []*fieldStats
}

type fieldStats struct {
	Name string `json:"name"`
	// Rows counts records that have the field; Values those where it is not
	// null and not "" (an empty CSV cell).
	Rows    int64                `json:"rows"`
	Values  int64                `json:"values"`
	Types   [kindArray + 1]int64 `json:"types"` // by kind; [kindNull] unused
	Updated time.Time            `json:"updated,omitzero"`
	Top     *sketchState         `json:"top,omitempty"` // only in the saved form

	top *topK
}

func kvKey(connection string) string { return "stats/" + url.PathEscape(connection) }

// Open loads the saved stats and starts saving changes every FlushInterval
// until Close.
func Open(ctx context.Context, o Options) (*Recorder, error) {
	if o.KV == nil {
		return nil, errors.New("stats: no KV")
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 10 * time.Second
	}
	if o.TopK <= 0 {
		o.TopK = 32
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &Recorder{o: o, log: o.Logger, conns: map[string]*connStats{}, stop: make(chan struct{}), done: make(chan struct{})}
	r.scratch.New = func() any { s := make([]member, 0, 64); return &s }
	pairs, err := o.KV.List(ctx, "stats/", 0)
	if err != nil {
		return nil, fmt.Errorf("load stats: %w", err)
	}
	for _, p := range pairs {
		var c connStats
		if err := json.Unmarshal(p.Value, &c); err != nil {
			r.log.Warn("saved stats unreadable; starting them anew", "key", p.Key, "err", err)
			continue
		}
		r.restore(&c)
		r.conns[c.Name] = &c
	}
	go r.flushLoop()
	return r, nil
}

// restore rebuilds what the saved form leaves out.
func (r *Recorder) restore(c *connStats) {
	if c.Entities == nil {
		c.Entities = map[string]*entityStats{}
	}
	for _, e := range c.Entities {
		if e.Fields == nil {
			e.Fields = map[string]*fieldStats{}
		}
		for _, f := range e.Fields {
			f.top = newTopK(r.o.TopK)
			if f.Top != nil {
				f.top.load(*f.Top)
				f.Top = nil
			}
		}
	}
	c.dayIdx = -1
}

func (r *Recorder) conn(name string) *connStats {
	r.mu.RLock()
	c := r.conns[name]
	r.mu.RUnlock()
	if c != nil {
		return c
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if c = r.conns[name]; c == nil {
		c = &connStats{Name: name, Entities: map[string]*entityStats{}, dayIdx: -1}
		r.conns[name] = c
	}
	return c
}

// Connected records when a connection was first configured (kept if set).
func (r *Recorder) Connected(connection string, at time.Time) {
	c := r.conn(connection)
	c.mu.Lock()
	if c.ConnectedAt.IsZero() {
		c.ConnectedAt, c.dirty = at, true
	}
	c.mu.Unlock()
}

// Observe counts one ingested record. payload is the event payload (a JSON
// object); an sftp/s3 import event counts as its "record" under its
// "entity", anything else as itself under entity (the event type;
// DefaultEntity when empty). Only top-level fields are counted.
func (r *Recorder) Observe(connection, entity string, payload []byte, at time.Time) {
	sp := r.scratch.Get().(*[]member)
	ms, err := members(payload, (*sp)[:0])
	if err != nil {
		ms = ms[:0] // not an object: a row without fields
	} else if rec, ent, ok := splitRecord(ms); ok {
		entity = ent
		if ms, err = members(rec, ms[:0]); err != nil {
			ms = ms[:0]
		}
	}
	if entity == "" {
		entity = DefaultEntity
	}
	c := r.conn(connection)
	c.mu.Lock()
	c.observe(r, entity, ms, at)
	c.mu.Unlock()
	// The pooled slice keeps pointing into this payload until reused; the
	// pool is emptied by GC, so that retains at most a few payloads.
	*sp = ms[:0]
	r.scratch.Put(sp)
}

// ObserveAppended observes the events of one successful Log.Append,
// skipping those dropped as duplicates. The hook path calls it after the
// append returns.
func (r *Recorder) ObserveAppended(reqs []store.AppendRequest, res []store.AppendResult, at time.Time) {
	for i := range reqs {
		if i < len(res) && res[i].Duplicate {
			continue
		}
		r.Observe(reqs[i].Connection, reqs[i].Type, reqs[i].Payload, at)
	}
}

func (c *connStats) observe(r *Recorder, entity string, ms []member, at time.Time) {
	e := c.Entities[entity]
	if e == nil {
		e = &entityStats{Name: entity, Created: at, Fields: map[string]*fieldStats{}}
		c.Entities[entity] = e
	}
	if e.Created.IsZero() || at.Before(e.Created) {
		e.Created = at
	}
	e.Rows++
	e.Updated = later(e.Updated, at)
	for i := range ms {
		m := &ms[i]
		var f *fieldStats
		switch {
		case m.keyEsc:
			f = e.field(r, unescapeKey(m.key))
		case i < len(e.order) && e.order[i].Name == string(m.key):
			f = e.order[i]
		default:
			if f = e.Fields[string(m.key)]; f == nil {
				f = e.field(r, string(m.key))
			}
		}
		if i < len(e.order) {
			e.order[i] = f
		} else {
			e.order = append(e.order, f)
		}
		f.Rows++
		switch m.kind {
		case kindNull:
			continue
		case kindString:
			if len(m.val) == 2 { // "": an empty cell
				continue
			}
			if bytes.IndexByte(m.val, '\\') >= 0 {
				f.top.add([]byte(unquote(m.val, true)))
			} else {
				f.top.add(m.val[1 : len(m.val)-1])
			}
		case kindNumber, kindBool:
			f.top.add(m.val)
		}
		// Objects and arrays count as values and types, not as top values.
		f.Values++
		f.Types[m.kind]++
		f.Updated = later(f.Updated, at)
	}
	e.order = e.order[:len(ms)]
	c.LastRecordAt = later(c.LastRecordAt, at)
	if c.ConnectedAt.IsZero() {
		c.ConnectedAt = at
	}
	c.countDay(r.o.Location, at)
	c.dirty = true
}

func (e *entityStats) field(r *Recorder, name string) *fieldStats {
	f := e.Fields[name]
	if f == nil {
		f = &fieldStats{Name: name, top: newTopK(r.o.TopK)}
		e.Fields[name] = f
	}
	return f
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// countDay adds one record to at's day, keeping the newest keepDays days.
func (c *connStats) countDay(loc *time.Location, at time.Time) {
	if c.dayIdx >= 0 && !at.Before(c.dayStart) && at.Before(c.dayEnd) {
		c.Days[c.dayIdx].Records++
		return
	}
	y, m, d := at.In(loc).Date()
	date := fmt.Sprintf("%04d-%02d-%02d", y, m, d)
	i := sort.Search(len(c.Days), func(i int) bool { return c.Days[i].Date >= date })
	if i == len(c.Days) || c.Days[i].Date != date {
		if len(c.Days) >= keepDays && i == 0 {
			return // older than every kept day
		}
		c.Days = append(c.Days, dayCount{})
		copy(c.Days[i+1:], c.Days[i:])
		c.Days[i] = dayCount{Date: date}
		if len(c.Days) > keepDays {
			c.Days = c.Days[1:]
			i--
		}
	}
	c.Days[i].Records++
	c.dayStart = time.Date(y, m, d, 0, 0, 0, 0, loc)
	c.dayEnd = time.Date(y, m, d+1, 0, 0, 0, 0, loc)
	c.dayIdx = i
}

// SetMetadata records a connection's entities and fields (the metadata
// table of the overview).
func (r *Recorder) SetMetadata(connection string, md *pluginsdk.MetadataResult, at time.Time) {
	if md == nil {
		return
	}
	c := r.conn(connection)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, me := range md.Entities {
		e := c.Entities[me.Name]
		if e == nil {
			e = &entityStats{Name: me.Name, Created: at, Fields: map[string]*fieldStats{}}
			c.Entities[me.Name] = e
		}
		meta := me
		meta.Fields = append([]pluginsdk.Field(nil), me.Fields...)
		e.Meta = &meta
	}
	c.MetadataAt = at
	if c.ConnectedAt.IsZero() {
		c.ConnectedAt = at
	}
	c.dirty = true
}

// Flush saves the stats of every connection that changed.
func (r *Recorder) Flush(ctx context.Context) error {
	r.mu.RLock()
	conns := make([]*connStats, 0, len(r.conns))
	for _, c := range r.conns {
		conns = append(conns, c)
	}
	r.mu.RUnlock()
	var errs []error
	for _, c := range conns {
		c.mu.Lock()
		if !c.dirty {
			c.mu.Unlock()
			continue
		}
		b, err := c.marshal()
		c.dirty = false
		c.mu.Unlock()
		if err == nil {
			err = r.o.KV.Set(ctx, kvKey(c.Name), b, 0)
		}
		if err != nil {
			c.mu.Lock()
			c.dirty = true
			c.mu.Unlock()
			errs = append(errs, fmt.Errorf("save stats of %s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}

// marshal encodes the saved form; c.mu is held.
func (c *connStats) marshal() ([]byte, error) {
	for _, e := range c.Entities {
		for _, f := range e.Fields {
			st := f.top.state()
			f.Top = &st
		}
	}
	b, err := json.Marshal(c)
	for _, e := range c.Entities {
		for _, f := range e.Fields {
			f.Top = nil
		}
	}
	return b, err
}

func (r *Recorder) flushLoop() {
	defer close(r.done)
	t := time.NewTicker(r.o.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			if err := r.Flush(context.Background()); err != nil {
				r.log.Error("stats not saved", "err", err)
			}
		}
	}
}

// Close stops the periodic save and saves once more.
func (r *Recorder) Close() error {
	r.once.Do(func() { close(r.stop) })
	<-r.done
	return r.Flush(context.Background())
}
