package main

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// Entities the connector fetches.
const (
	entityLeads      = "leads"
	entityActivities = "activities"
)

// leadChangeTypes are the activities that mark a lead as created (New Lead,
// 12) or changed (Change Data Value, 13): the leads entity follows them.
const leadChangeTypes = "12,13"

var (
	activityPaths = fields.MustCompile("$.id", "$.marketoGUID", "$.activityDate", "$.leadId")
	leadPaths     = fields.MustCompile("$.id", "$.updatedAt")
	cursorPaths   = fields.MustCompile("$.nextPageToken")
)

// Fetch implements pluginsdk.Fetcher. Both entities read Marketo's activity
// stream with paging tokens: the first fetch asks
// /rest/v1/activities/pagingtoken.json for a token at `since`, every fetch
// reads one page of /rest/v1/activities.json with the cursor's token and
// returns the page's nextPageToken as the new cursor, so a job that stops
// (or a hub that restarts) resumes at exactly the next page. When Marketo
// says moreResult=false the token is kept: the next job reads what happened
// since.
//
//   - activities: one event per activity of the configured types.
//   - leads: the leads created or changed in the page (activity types 12 and
//     13), read in one call to /rest/v1/leads.json?filterType=id; one event
//     per lead, with the configured fields.
//
// Each event is {"entity": "...", "record": {...}} — the record exactly as
// Marketo sent it.
func (m *Marketo) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	if err := m.configured(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("marketo fetch: %v", err)
	}
	var types string
	switch req.Entity {
	case entityActivities:
		types = m.cfg.activityTypes
	case entityLeads:
		types = leadChangeTypes
	default:
		return nil, pluginsdk.Errorf("marketo fetch: unknown entity %q (want %s or %s)", req.Entity, entityLeads, entityActivities)
	}
	token, err := parseCursor(req.Cursor)
	if err != nil {
		return nil, err
	}
	if token == "" {
		if token, err = m.pagingToken(ctx, m.start()); err != nil {
			return nil, err
		}
	}
	batch := m.cfg.batchSize
	if req.Limit > 0 && req.Limit < batch {
		batch = req.Limit
	}
	r, err := m.call(ctx, "GET", "/rest/v1/activities.json",
		"nextPageToken="+url.QueryEscape(token)+"&activityTypeIds="+types+"&batchSize="+strconv.Itoa(batch), nil)
	if err != nil {
		return nil, err
	}
	next := r.nextPageToken
	if next == "" {
		next = token
	}
	res := &pluginsdk.FetchResult{Cursor: encodeCursor(next), More: r.moreResult}
	if r.result == nil {
		return res, nil
	}
	acts, err := fields.Elements(r.result)
	if err != nil {
		return nil, pluginsdk.Retryable("GET /rest/v1/activities.json: result: %v", err)
	}
	if req.Entity == entityActivities {
		res.Events, err = activityEvents(acts)
	} else {
		res.Events, err = m.leadEvents(ctx, acts)
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// start is where a first fetch begins.
func (m *Marketo) start() time.Time {
	if !m.cfg.since.IsZero() {
		return m.cfg.since
	}
	return m.now().Add(-m.cfg.lookback)
}

func (m *Marketo) pagingToken(ctx context.Context, since time.Time) (string, error) {
	const path = "/rest/v1/activities/pagingtoken.json"
	r, err := m.call(ctx, "GET", path, "sinceDatetime="+url.QueryEscape(since.UTC().Format(time.RFC3339)), nil)
	if err != nil {
		return "", err
	}
	if r.nextPageToken == "" {
		return "", pluginsdk.Retryable("GET %s: no nextPageToken in the answer (request %s)", path, r.requestID)
	}
	return r.nextPageToken, nil
}

var (
	activitiesPrefix = []byte(`{"entity":"activities","record":`)
	leadsPrefix      = []byte(`{"entity":"leads","record":`)
)

func activityEvents(acts [][]byte) ([]pluginsdk.Event, error) {
	evs := make([]pluginsdk.Event, 0, len(acts))
	var v [4][]byte
	for i, a := range acts {
		if firstByte(a) != '{' {
			return nil, pluginsdk.Errorf("GET /rest/v1/activities.json: result item %d is not an object", i)
		}
		if err := activityPaths.Extract(a, v[:]); err != nil {
			return nil, pluginsdk.Errorf("GET /rest/v1/activities.json: result item %d: %v", i, err)
		}
		ev := pluginsdk.Event{Payload: wrap(activitiesPrefix, a), Type: entityActivities}
		if guid, ok := fields.String(v[1]); ok && guid != "" {
			ev.DedupKey = "activity/" + guid
		} else if id := idText(v[0]); id != "" {
			ev.DedupKey = "activity/" + id
		}
		if s, ok := fields.String(v[2]); ok {
			ev.Time, _ = time.Parse(time.RFC3339, s)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// leadEvents reads the leads the activities name, in the order first named.
func (m *Marketo) leadEvents(ctx context.Context, acts [][]byte) ([]pluginsdk.Event, error) {
	ids := make([]string, 0, len(acts))
	seen := make(map[string]bool, len(acts))
	var v [4][]byte
	for _, a := range acts {
		if activityPaths.Extract(a, v[:]) != nil {
			continue
		}
		if id := idText(v[3]); id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	const path = "/rest/v1/leads.json"
	// At most batch_size (≤ 300) ids: one call, well within Marketo's 300
	// filter values and its 8 KB URL limit.
	r, err := m.call(ctx, "GET", path, "filterType=id&filterValues="+strings.Join(ids, ",")+
		"&fields="+url.QueryEscape(strings.Join(m.cfg.leadFields, ","))+"&batchSize="+strconv.Itoa(maxBatch), nil)
	if err != nil {
		return nil, err
	}
	if r.result == nil {
		return nil, nil // every lead was deleted since
	}
	leads, err := fields.Elements(r.result)
	if err != nil {
		return nil, pluginsdk.Retryable("GET %s: result: %v", path, err)
	}
	evs := make([]pluginsdk.Event, 0, len(leads))
	var lv [2][]byte
	for i, l := range leads {
		if firstByte(l) != '{' {
			return nil, pluginsdk.Errorf("GET %s: result item %d is not an object", path, i)
		}
		if err := leadPaths.Extract(l, lv[:]); err != nil {
			return nil, pluginsdk.Errorf("GET %s: result item %d: %v", path, i, err)
		}
		ev := pluginsdk.Event{Payload: wrap(leadsPrefix, l), Type: entityLeads}
		updated, _ := fields.String(lv[1])
		if id := idText(lv[0]); id != "" {
			// The same lead changed again is a new event; the same version
			// read twice (a repeated page) is dropped by the host.
			ev.DedupKey = "lead/" + id + "/" + updated
		}
		ev.Time, _ = time.Parse(time.RFC3339, updated)
		evs = append(evs, ev)
	}
	return evs, nil
}

// wrap returns prefix + record + "}".
func wrap(prefix, record []byte) []byte {
	b := make([]byte, 0, len(prefix)+len(record)+1)
	return append(append(append(b, prefix...), record...), '}')
}

// idText returns a positive integer id, from a JSON number or a string of
// digits, as its decimal text; "" for anything else.
func idText(raw []byte) string {
	if s, ok := fields.String(raw); ok {
		raw = []byte(s)
	}
	if len(raw) == 0 || len(raw) > 18 || raw[0] == '0' {
		return ""
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return string(raw)
}

// The cursor is {"nextPageToken": "..."}: the token of the next page to
// read, opaque to the host.
func encodeCursor(token string) []byte {
	o := fields.NewObject(make([]byte, 0, len(token)+20))
	o.String("nextPageToken", token)
	return o.Bytes()
}

func parseCursor(c []byte) (string, error) {
	if len(c) == 0 {
		return "", nil
	}
	var v [1][]byte
	err := cursorPaths.Extract(c, v[:])
	tok, ok := fields.String(v[0])
	if err != nil || !ok || tok == "" {
		if err == nil {
			err = errors.New("no nextPageToken")
		}
		return "", pluginsdk.Errorf("marketo fetch: the saved cursor %.60q is not this connector's (%v); reset it to start again from `since`", c, err)
	}
	return tok, nil
}
