package stats

import (
	"context"
	"encoding/json"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// Record is one record of the details tab.
type Record struct {
	EventID    string          `json:"eventId"`
	Entity     string          `json:"entity"`
	ReceivedAt time.Time       `json:"receivedAt"`
	Record     json.RawMessage `json:"record"`
}

// LatestRecords returns up to limit of the newest records of connection
// (of entity, when not ""), newest first, reading the log backwards over at
// most scan events.
func LatestRecords(ctx context.Context, lg store.Log, connection, entity string, limit, scan int) ([]Record, error) {
	const page = 500
	out := []Record{}
	hi := lg.LastSeq() // read events with seq in (lo, hi]
	var ms []member
	for scanned := 0; hi > 0 && len(out) < limit && scanned < scan; {
		lo := hi - min(hi, page)
		evs, err := lg.Read(ctx, lo, page)
		if err != nil {
			return nil, err
		}
		scanned += page
		for i := len(evs) - 1; i >= 0 && len(out) < limit; i-- {
			ev := evs[i]
			if ev.Seq > hi || ev.Connection != connection {
				continue
			}
			rec, ent := json.RawMessage(ev.Payload), ev.Type
			ms, _ = members(ev.Payload, ms[:0])
			if r, e, ok := splitRecord(ms); ok {
				rec, ent = json.RawMessage(r), e
			}
			if ent == "" {
				ent = DefaultEntity
			}
			if entity != "" && ent != entity {
				continue
			}
			out = append(out, Record{EventID: ev.ID, Entity: ent, ReceivedAt: ev.ReceivedAt, Record: rec})
		}
		hi = lo
	}
	return out, nil
}
