package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// Actions the connector performs.
const (
	actionUpsert   = "upsert_lead"
	actionCampaign = "add_lead_to_campaign"
	actionProgram  = "add_lead_to_program"
)

// Perform implements pluginsdk.Performer. Inputs are read with fields and
// request bodies appended byte by byte: leads pass through untouched, and a
// Go guest never runs encoding/json on the per-event path (except for
// campaign tokens).
func (m *Marketo) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if err := m.configured(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("marketo %s: %v", req.Action, err)
	}
	var (
		out []byte
		err error
	)
	switch req.Action {
	case actionUpsert:
		out, err = m.upsertLead(ctx, req.Input)
	case actionCampaign:
		out, err = m.addToCampaign(ctx, req)
	case actionProgram:
		out, err = m.addToProgram(ctx, req.Input)
	default:
		return nil, pluginsdk.Errorf("marketo: unknown action %q (want %s, %s or %s)", req.Action, actionUpsert, actionCampaign, actionProgram)
	}
	if err != nil {
		return nil, err
	}
	return &pluginsdk.PerformResult{Output: out}, nil
}

// readInput extracts paths from an action's input, which must be a JSON
// object (empty input counts as {}).
func readInput(action string, in []byte, p *fields.Paths, out [][]byte) error {
	if len(in) == 0 {
		in = []byte("{}")
	}
	if err := p.Extract(in, out); err != nil {
		return pluginsdk.Errorf("%s: input: %v", action, err)
	}
	if firstByte(in) != '{' {
		return pluginsdk.Errorf("%s: input must be a JSON object", action)
	}
	return nil
}

var (
	upsertPaths = fields.MustCompile("$.leads", "$.lead", "$.lookup_field", "$.partition_name")
	emailPath   = fields.MustCompile("$.email")
)

func (m *Marketo) upsertLead(ctx context.Context, in []byte) ([]byte, error) {
	const what = actionUpsert
	var v [4][]byte
	if err := readInput(what, in, upsertPaths, v[:]); err != nil {
		return nil, err
	}
	var leads [][]byte
	switch {
	case !fields.IsNull(v[0]):
		if firstByte(v[0]) != '[' {
			return nil, pluginsdk.Errorf("%s: leads must be a list of lead objects", what)
		}
		leads, _ = fields.Elements(v[0]) // valid: Extract checked the input
	case !fields.IsNull(v[1]):
		leads = [][]byte{v[1]}
	}
	if len(leads) == 0 {
		return nil, pluginsdk.Errorf("%s: input needs lead (an object of lead fields) or leads (a list of up to %d)", what, maxBatch)
	}
	if len(leads) > maxBatch {
		return nil, pluginsdk.Errorf("%s: %d leads; Marketo takes at most %d per call", what, len(leads), maxBatch)
	}
	lookup := "email"
	if !fields.IsNull(v[2]) {
		s, ok := fields.String(v[2])
		if !ok || !fieldNameRE.MatchString(s) {
			return nil, pluginsdk.Errorf("%s: lookup_field must be a lead field's REST name, got %s", what, v[2])
		}
		lookup = s
	}
	for i, l := range leads {
		if firstByte(l) != '{' {
			return nil, pluginsdk.Errorf("%s: lead %d is not an object", what, i)
		}
		l = dropNulls(l)
		leads[i] = l
		key := lookupValue(l, lookup)
		if s, isStr := fields.String(key); fields.IsNull(key) || (isStr && s == "") {
			return nil, pluginsdk.Errorf("%s: lead %d has no %s (the lookup field)", what, i, lookup)
		}
	}
	body := make([]byte, 0, 96+len(in))
	body = append(body, `{"action":"createOrUpdate","lookupField":`...)
	body = fields.AppendString(body, lookup)
	if s, ok := fields.String(v[3]); ok && s != "" {
		body = append(body, `,"partitionName":`...)
		body = fields.AppendString(body, s)
	}
	body = append(body, `,"input":[`...)
	for i, l := range leads {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, l...)
	}
	body = append(body, "]}"...)
	const path = "/rest/v1/leads.json"
	r, err := m.call(ctx, "POST", path, "", body)
	if err != nil {
		return nil, err
	}
	recs, err := parseRecords(r.result)
	if err != nil {
		return nil, pluginsdk.Retryable("POST %s: result: %v", path, err)
	}
	return recordsOutput("POST "+path, nil, recs, true)
}

var campaignPaths = fields.MustCompile("$.campaign_id", "$.lead_id", "$.leads", "$.tokens")

// performKeyTTL is how long a campaign trigger's output is kept under its
// idempotency key.
const performKeyTTL = 24 * time.Hour

func (m *Marketo) addToCampaign(ctx context.Context, req *pluginsdk.PerformRequest) ([]byte, error) {
	const what = actionCampaign
	var v [4][]byte
	if err := readInput(what, req.Input, campaignPaths, v[:]); err != nil {
		return nil, err
	}
	campaign := idText(v[0])
	if campaign == "" {
		return nil, pluginsdk.Errorf("%s: input needs campaign_id, the id of a trigger campaign (got %s)", what, orAbsent(v[0]))
	}
	ids, err := leadIDs(what, v[1], v[2], maxTriggerLeads)
	if err != nil {
		return nil, err
	}
	tokens, err := campaignTokens(what, v[3])
	if err != nil {
		return nil, err
	}
	// A trigger is not idempotent: a retry after a success whose result was
	// lost (the hub stopped before recording it) would send the leads
	// through the campaign again, unless its qualification rules stop that.
	// So a success is remembered under the task's idempotency key.
	key := ""
	if req.IdempotencyKey != "" && m.pc.KV != nil {
		key = "perform/" + req.IdempotencyKey
		if prev, found, err := m.pc.KV.Get(ctx, key); err == nil && found && fields.Valid(prev) {
			return prev, nil
		}
	}
	body := make([]byte, 0, 64+len(ids)*16+len(tokens))
	body = append(body, `{"input":{"leads":[`...)
	for i, id := range ids {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(append(append(body, `{"id":`...), id...), '}')
	}
	body = append(body, ']')
	if tokens != nil {
		body = append(append(body, `,"tokens":`...), tokens...)
	}
	body = append(body, "}}"...)
	path := "/rest/v1/campaigns/" + campaign + "/trigger.json"
	if _, err := m.call(ctx, "POST", path, "", body); err != nil {
		return nil, err
	}
	out := make([]byte, 0, 32+len(ids)*12)
	out = append(append(append(out, `{"campaign_id":`...), campaign...), `,"leads":[`...)
	for i, id := range ids {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, id...)
	}
	out = append(out, "]}"...)
	if key != "" {
		if err := m.pc.KV.Set(ctx, key, out, performKeyTTL); err != nil {
			m.logDebug("marketo trigger not remembered", "key", key, "err", err)
		}
	}
	return out, nil
}

var programPaths = fields.MustCompile("$.program_id", "$.lead_id", "$.leads", "$.status")

func (m *Marketo) addToProgram(ctx context.Context, in []byte) ([]byte, error) {
	const what = actionProgram
	var v [4][]byte
	if err := readInput(what, in, programPaths, v[:]); err != nil {
		return nil, err
	}
	program := idText(v[0])
	if program == "" {
		return nil, pluginsdk.Errorf("%s: input needs program_id, the id of a program (got %s)", what, orAbsent(v[0]))
	}
	status, ok := fields.String(v[3])
	if !ok || status == "" {
		return nil, pluginsdk.Errorf("%s: input needs status, a program status of the program's channel such as Member (got %s)", what, orAbsent(v[3]))
	}
	ids, err := leadIDs(what, v[1], v[2], maxBatch)
	if err != nil {
		return nil, err
	}
	body := make([]byte, 0, 48+len(status)+len(ids)*16)
	body = append(body, `{"status":`...)
	body = fields.AppendString(body, status)
	body = append(body, `,"input":[`...)
	for i, id := range ids {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(append(append(body, `{"id":`...), id...), '}')
	}
	body = append(body, "]}"...)
	path := "/rest/v1/leads/programs/" + program + "/status.json"
	r, err := m.call(ctx, "POST", path, "", body)
	if err != nil {
		return nil, err
	}
	recs, err := parseRecords(r.result)
	if err != nil {
		return nil, pluginsdk.Retryable("POST %s: result: %v", path, err)
	}
	head := fields.NewObject(make([]byte, 0, 64))
	head.Raw("program_id", []byte(program))
	head.String("status", status)
	return recordsOutput("POST "+path, head.Bytes(), recs, false)
}

// leadIDs reads lead_id or leads (ids as numbers or strings of digits, or
// objects with an id such as upsert_lead's output leads), at most max.
func leadIDs(what string, leadID, leads []byte, max int) ([]string, error) {
	if !fields.IsNull(leadID) {
		id := idText(leadID)
		if id == "" {
			return nil, pluginsdk.Errorf("%s: lead_id %s is not a Marketo lead id", what, leadID)
		}
		return []string{id}, nil
	}
	if fields.IsNull(leads) {
		return nil, pluginsdk.Errorf("%s: input needs lead_id or leads", what)
	}
	if firstByte(leads) != '[' {
		return nil, pluginsdk.Errorf("%s: leads must be a list of lead ids or {id} objects", what)
	}
	items, _ := fields.Elements(leads)
	if len(items) == 0 {
		return nil, pluginsdk.Errorf("%s: leads is empty", what)
	}
	if len(items) > max {
		return nil, pluginsdk.Errorf("%s: %d leads; Marketo takes at most %d per call", what, len(items), max)
	}
	ids := make([]string, 0, len(items))
	var v [2][]byte
	for i, it := range items {
		raw := it
		if firstByte(it) == '{' {
			_ = leadPaths.Extract(it, v[:])
			raw = v[0]
		}
		id := idText(raw)
		if id == "" {
			return nil, pluginsdk.Errorf("%s: leads[%d] (%.60s) has no Marketo lead id", what, i, it)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func orAbsent(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	return fmt.Sprintf("%.60s", raw)
}

// record is one item of a write's result: a lead with its status, or a
// skipped input with the reasons.
type record struct {
	id      string
	status  string
	reasons []apiErr
}

var recordPaths = fields.MustCompile("$.id", "$.status", "$.reasons")

func parseRecords(result []byte) ([]record, error) {
	if result == nil {
		return nil, nil
	}
	items, err := fields.Elements(result)
	if err != nil {
		return nil, err
	}
	recs := make([]record, 0, len(items))
	var v [3][]byte
	for i, it := range items {
		if firstByte(it) != '{' {
			return nil, fmt.Errorf("item %d is not an object", i)
		}
		if err := recordPaths.Extract(it, v[:]); err != nil {
			return nil, err
		}
		r := record{id: idText(v[0])}
		r.status, _ = fields.String(v[1])
		if !fields.IsNull(v[2]) {
			if r.reasons, err = parseErrors(v[2]); err != nil {
				return nil, fmt.Errorf("item %d reasons: %w", i, err)
			}
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// recordsOutput builds {<head members>, "id", "status", "leads": [{id,
// status}], "skipped": [{index, code, message}]}: id (and with withStatus,
// status) are the first written lead's, so a single-lead workflow reads
// `.output.id`. When no input was written at all, the first skip reason is
// the error.
func recordsOutput(what string, head []byte, recs []record, withStatus bool) ([]byte, error) {
	written, skipped := 0, 0
	first := -1
	for i, r := range recs {
		if r.status == "skipped" || r.id == "" {
			skipped++
			continue
		}
		written++
		if first < 0 {
			first = i
		}
	}
	if written == 0 && skipped > 0 {
		for i, r := range recs {
			if len(r.reasons) > 0 {
				return nil, apiError(fmt.Sprintf("%s: input %d skipped", what, i), r.reasons[0])
			}
		}
		return nil, pluginsdk.Errorf("%s: every input was skipped, without a reason", what)
	}
	out := make([]byte, 0, 64+len(head)+len(recs)*32)
	if len(head) > 2 {
		out = append(out, head[:len(head)-1]...) // open: drop the closing brace
		out = append(out, ',')
	} else {
		out = append(out, '{')
	}
	if first >= 0 {
		out = append(append(append(out, `"id":`...), recs[first].id...), ',')
		if withStatus {
			out = append(out, `"status":`...)
			out = fields.AppendString(out, recs[first].status)
			out = append(out, ',')
		}
	}
	out = append(out, `"leads":[`...)
	n := 0
	for _, r := range recs {
		if r.status == "skipped" || r.id == "" {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		n++
		out = append(append(append(out, `{"id":`...), r.id...), `,"status":`...)
		out = fields.AppendString(out, r.status)
		out = append(out, '}')
	}
	out = append(out, ']')
	if skipped > 0 {
		out = append(out, `,"skipped":[`...)
		n = 0
		for i, r := range recs {
			if !(r.status == "skipped" || r.id == "") {
				continue
			}
			if n > 0 {
				out = append(out, ',')
			}
			n++
			o := fields.NewObject(out)
			o.Int("index", int64(i))
			if len(r.reasons) > 0 {
				o.String("code", r.reasons[0].code)
				o.String("message", r.reasons[0].message)
			}
			out = o.Bytes()
		}
		out = append(out, ']')
	}
	return append(out, '}'), nil
}

// lookupValue reads the lookup field of a lead. email, the usual one, has a
// precompiled path; another field is read with encoding/json rather than a
// path compiled per call, because under Wasm every compiled path set stays
// registered with the host for the instance's life.
func lookupValue(lead []byte, field string) []byte {
	if field == "email" {
		var v [1][]byte
		if emailPath.Extract(lead, v[:]) != nil {
			return nil
		}
		return v[0]
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(lead, &members) != nil {
		return nil
	}
	return members[field]
}

var nullBytes = []byte("null")

// dropNulls removes the null members of a lead object. A workflow maps
// fields the event may lack (a Segment identify without lastName renders
// lastName: null), and Marketo would clear the field; leaving the member
// out keeps what Marketo has. To clear a field, send "". Only leads that
// contain "null" at all are decoded, so the common case stays a copy-free
// pass-through.
func dropNulls(lead []byte) []byte {
	if !bytes.Contains(lead, nullBytes) {
		return lead
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(lead, &members) != nil {
		return lead
	}
	n := len(members)
	for k, v := range members {
		if string(v) == "null" {
			delete(members, k)
		}
	}
	if len(members) == n {
		return lead
	}
	out, err := json.Marshal(members)
	if err != nil {
		return lead
	}
	return out
}
