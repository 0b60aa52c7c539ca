// Package events registers the builtin task events.collect: the events one
// connection received in a time window, read back from the durable log, as
// records for an export action (an hourly NDJSON file per connection on S3,
// a nightly CSV on SFTP). See README.md for the `with:` keys and the rules
// that make a scheduled export exactly the events of its slot.
package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// TaskID is what `uses:` names.
const TaskID = "events.collect"

// Settle is how long after a window's end collecting waits before reading
// it. An event is stamped (ReceivedAt) when its append is prepared and is
// readable once committed, a few milliseconds later; reading at the end of
// the window itself could miss an event stamped just before it, and a retry
// of the same run would then export one more record. After Settle every
// append stamped inside the window has been committed, unless the store
// stalled for longer than that.
const Settle = 2 * time.Second

// fileConnectors are the connectors whose events wrap one imported record:
// {"file", "line", "entity", "record": {...}}.
var fileConnectors = map[string]bool{"sftp": true, "s3": true}

func init() {
	task.Register(task.Def{
		ID:          TaskID,
		Needs:       []task.Service{task.NeedEvents, task.NeedConnections},
		Description: "The events a connection received in a time window (default the hour before with.at), as records for an export",
		New:         newCollector,
	})
}

// collector is the events.collect executor.
type collector struct {
	log   eventLog
	conns task.Connections
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func newCollector(env *task.Env) (task.Executor, error) {
	return &collector{log: env.Events, conns: env.Connections, now: time.Now, sleep: sleepCtx}, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Execute implements task.Executor.
func (x *collector) Execute(ctx context.Context, c *task.Call) (json.RawMessage, error) {
	in, err := parseInput(c.Input)
	if err != nil {
		return nil, err
	}
	conn, ok := x.conns.Connection(in.connection)
	if !ok {
		return nil, pluginsdk.Errorf("events.collect: with.connection %q is not configured (configured: %s)", in.connection, x.names())
	}
	file := fileConnectors[conn.Connector]
	if in.includeSource && !file {
		return nil, pluginsdk.Errorf("events.collect: with.include_source: connection %s (connector %s) does not import files; only sftp and s3 events have a file and line",
			in.connection, conn.Connector)
	}
	if in.entity != "" && len(conn.Spec.Entities) > 0 && !hasEntity(conn, in.entity) {
		return nil, pluginsdk.Errorf("events.collect: with.entity %q: connection %s has no such entity (it has: %s)", in.entity, in.connection, entityNames(conn))
	}
	from, to := in.at.Add(-in.window), in.at
	now := x.now()
	if to.After(now) {
		return nil, pluginsdk.Errorf("events.collect: with.at %s is in the future (now %s): the window [%s, %s) has not ended; collect it after its end",
			stamp(to), stamp(now.UTC()), stamp(from), stamp(to))
	}
	if wait := to.Add(Settle).Sub(now); wait > 0 {
		if err := x.sleep(ctx, wait); err != nil {
			return nil, pluginsdk.Retryable("events.collect: waiting for the window to settle: %v", err)
		}
	}
	out, err := x.collect(ctx, in, file, from, to)
	if err != nil {
		var pe *pluginsdk.Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		return nil, pluginsdk.Retryable("events.collect: read the event log of %s: %v", in.connection, err)
	}
	return out, nil
}

// collect reads the window and encodes the output. Records are copied from
// the log as they are (no decoding into a tree), so key order is kept.
func (x *collector) collect(ctx context.Context, in input, file bool, from, to time.Time) (json.RawMessage, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"records":[`)
	n := 0
	var scratch filePayload
	_, err := scan(ctx, x.log, from, to, func(ev *event.Event) error {
		if ev.Connection != in.connection || in.entity != "" && ev.Type != in.entity {
			return nil
		}
		if n == in.limit {
			return pluginsdk.Errorf("events.collect: connection %s received more than %d events in [%s, %s); nothing was collected: raise with.limit (at most %d) or shorten with.window",
				in.connection, in.limit, stamp(from), stamp(to), MaxLimit)
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		if file && appendFileRecord(&buf, ev.Payload, in.includeSource, &scratch) {
			return nil
		}
		appendPayload(&buf, ev.Payload)
		return nil
	})
	if err != nil {
		return nil, err
	}
	buf.WriteString(`],"count":`)
	buf.WriteString(strconv.Itoa(n))
	buf.WriteString(`,"connection":`)
	writeString(&buf, in.connection)
	if in.entity != "" {
		buf.WriteString(`,"entity":`)
		writeString(&buf, in.entity)
	}
	buf.WriteString(`,"from":`)
	writeString(&buf, stamp(from))
	buf.WriteString(`,"to":`)
	writeString(&buf, stamp(to))
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// filePayload is an sftp or s3 import event.
type filePayload struct {
	File   string          `json:"file"`
	Line   int64           `json:"line"`
	Record json.RawMessage `json:"record"`
}

// appendFileRecord writes the record of an import event, with _file and
// _line first when source is set. It reports false for a payload without a
// record object, which is then exported whole.
func appendFileRecord(buf *bytes.Buffer, payload json.RawMessage, source bool, p *filePayload) bool {
	*p = filePayload{Record: p.Record[:0]}
	if json.Unmarshal(payload, p) != nil {
		return false
	}
	rec := bytes.TrimSpace(p.Record)
	if len(rec) < 2 || rec[0] != '{' {
		return false
	}
	if !source {
		buf.Write(rec)
		return true
	}
	// "_" keeps the source apart from the file's own columns, which may well
	// be called file or line.
	buf.WriteString(`{"_file":`)
	writeString(buf, p.File)
	buf.WriteString(`,"_line":`)
	buf.WriteString(strconv.FormatInt(p.Line, 10))
	rest := bytes.TrimSpace(rec[1:])
	if rest[0] != '}' {
		buf.WriteByte(',')
	}
	buf.Write(rest)
	return true
}

// appendPayload writes a payload as a record: an object as it is, any other
// JSON value (a webhook may receive an array or a string) as {"payload": v},
// since an export writes objects.
func appendPayload(buf *bytes.Buffer, payload json.RawMessage) {
	p := bytes.TrimSpace(payload)
	if len(p) > 0 && p[0] == '{' {
		buf.Write(p)
		return
	}
	if len(p) == 0 {
		p = []byte("null")
	}
	buf.WriteString(`{"payload":`)
	buf.Write(p)
	buf.WriteByte('}')
}

func writeString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always encodes
	buf.Write(b)
}

// stamp renders a window bound: RFC 3339 in UTC, with a fraction only when
// there is one.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func (x *collector) names() string {
	var names []string
	for _, c := range x.conns.Connections() {
		names = append(names, c.Name)
	}
	if len(names) == 0 {
		return "none"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func hasEntity(c task.Connection, name string) bool {
	for _, e := range c.Spec.Entities {
		if e.Name == name {
			return true
		}
	}
	return false
}

func entityNames(c task.Connection) string {
	names := make([]string, len(c.Spec.Entities))
	for i, e := range c.Spec.Entities {
		names[i] = e.Name
	}
	return strings.Join(names, ", ")
}
