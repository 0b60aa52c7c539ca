package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// noteInput is the `with:` block of an add_note task.
type noteInput struct {
	TicketID string `json:"ticket_id"`
	Body     string `json:"body"`
	Public   bool   `json:"public"`
}

// doneTTL is how long a created note is remembered by its idempotency key:
// longer than any run's retries and a hub's restart.
const doneTTL = 7 * 24 * time.Hour

// Perform runs add_note. A run resumed after a crash performs its task
// again with the same idempotency key; the note it created the first time
// is in KV, so the ticket gets one note, not two.
func (t *Ticketing) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("perform: %v", err)
	}
	if req.Action != "add_note" {
		return nil, &pluginsdk.Error{Code: "unknown_action", Message: fmt.Sprintf("unknown action %q (want add_note)", req.Action)}
	}
	var in noteInput
	if err := json.Unmarshal(req.Input, &in); err != nil {
		return nil, &pluginsdk.Error{Code: "invalid_input", Message: fmt.Sprintf("add_note input: %v", err)}
	}
	if in.TicketID == "" || in.Body == "" {
		return nil, &pluginsdk.Error{Code: "invalid_input", Message: "add_note input: ticket_id and body are required"}
	}
	doneKey := "note/" + req.IdempotencyKey
	if req.IdempotencyKey != "" {
		out, found, err := t.kv.Get(ctx, doneKey)
		if err != nil {
			return nil, pluginsdk.Retryable("add_note: read KV: %v", err)
		}
		if found {
			return &pluginsdk.PerformResult{Output: out}, nil
		}
	}
	body, err := json.Marshal(map[string]any{"body": in.Body, "public": in.Public})
	if err != nil {
		return nil, pluginsdk.Errorf("add_note: encode note: %v", err)
	}
	hreq := &pluginsdk.HTTPRequest{
		Method: "POST",
		URL:    t.cfg.APIURL + "/tickets/" + url.PathEscape(in.TicketID) + "/notes",
		Header: map[string][]string{
			"Authorization": {"Bearer " + t.token},
			"Content-Type":  {"application/json"},
		},
		Body:    body,
		Timeout: time.Duration(t.cfg.Timeout),
	}
	if req.IdempotencyKey != "" {
		hreq.Header["Idempotency-Key"] = []string{req.IdempotencyKey}
	}
	resp, err := t.http.Do(ctx, hreq)
	if err != nil {
		var pe *pluginsdk.Error
		if errors.As(err, &pe) {
			return nil, pe // the host's own verdict, e.g. a host not allowed
		}
		return nil, pluginsdk.Retryable("add_note: post: %v", err)
	}
	if err := statusError(resp); err != nil {
		return nil, err
	}
	var note struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &note); err != nil || note.ID == "" {
		return nil, pluginsdk.Errorf("add_note: the API answered %d without a note id: %.200s", resp.Status, resp.Body)
	}
	out, err := json.Marshal(map[string]string{"ticket_id": in.TicketID, "note_id": note.ID})
	if err != nil {
		return nil, pluginsdk.Errorf("add_note: encode output: %v", err)
	}
	if req.IdempotencyKey != "" {
		if err := t.kv.Set(ctx, doneKey, out, doneTTL); err != nil {
			// The note exists: failing now would post it again on retry.
			t.log.Warn("add_note: note created but not remembered", "note_id", note.ID, "err", err)
		}
	}
	return &pluginsdk.PerformResult{Output: out}, nil
}

// statusError types an API answer: 429 and 5xx are worth retrying (after
// Retry-After, in seconds), any other non-2xx is permanent.
func statusError(resp *pluginsdk.HTTPResponse) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	e := &pluginsdk.Error{
		Code:    "http_" + strconv.Itoa(resp.Status),
		Message: fmt.Sprintf("add_note: the API answered %d: %.200s", resp.Status, strings.TrimSpace(string(resp.Body))),
	}
	if resp.Status == 429 || resp.Status >= 500 {
		e.Retryable = true
		if vs := resp.Header["Retry-After"]; len(vs) > 0 {
			if s, err := strconv.Atoi(strings.TrimSpace(vs[0])); err == nil && s > 0 {
				e.RetryAfter = time.Duration(s) * time.Second
			}
		}
	}
	return e
}
