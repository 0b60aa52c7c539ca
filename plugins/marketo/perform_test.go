package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// TestActionRequests checks each action's request against the documented
// request fixtures, and its output.
func TestActionRequests(t *testing.T) {
	cases := []struct {
		name, action, input string
		path, wantBody      string // wantBody: a fixture file
		wantOutput          string
	}{
		{name: "upsert one lead", action: actionUpsert, input: annaLead,
			path: "/rest/v1/leads.json", wantBody: "leads-createOrUpdate-request.json",
			wantOutput: `{"id":50,"status":"updated","leads":[{"id":50,"status":"updated"}]}`},
		{name: "upsert drops null fields", action: actionUpsert,
			input: `{"lead": {"email": "anna.rossi@example.com", "firstName": "Anna", "lastName": "Rossi", "title": null, "company": "Rossi Arredamenti"}}`,
			path:  "/rest/v1/leads.json", wantBody: "leads-createOrUpdate-request.json",
			wantOutput: `{"id":50,"status":"updated","leads":[{"id":50,"status":"updated"}]}`},
		{name: "campaign with upsert's leads and a token map", action: actionCampaign,
			input: `{"campaign_id": 1001, "leads": [{"id": 50, "status": "updated"}], "tokens": {"survey_link": "https://surveys.example.com/jfe/form/SV_demo"}}`,
			path:  "/rest/v1/campaigns/1001/trigger.json", wantBody: "campaign-trigger-request.json",
			wantOutput: `{"campaign_id":1001,"leads":[50]}`},
		{name: "campaign with a lead id string and a token list", action: actionCampaign,
			input: `{"campaign_id": "1001", "lead_id": "50", "tokens": [{"name": "my.survey_link", "value": "https://surveys.example.com/jfe/form/SV_demo"}]}`,
			path:  "/rest/v1/campaigns/1001/trigger.json", wantBody: "campaign-trigger-request.json",
			wantOutput: `{"campaign_id":1001,"leads":[50]}`},
		{name: "program status", action: actionProgram, input: `{"program_id": 1234, "status": "Member", "lead_id": 50}`,
			path: "/rest/v1/leads/programs/1234/status.json", wantBody: "program-status-request.json",
			wantOutput: `{"program_id":1234,"status":"Member","id":50,"leads":[{"id":50,"status":"updated"}]}`},
	}
	for _, fm := range forms(t) {
		for _, tc := range cases {
			t.Run(fm.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				c := e.connect(t, fm, nil)
				out := mustPerform(t, c, tc.action, tc.input)
				jsonEqual(t, "output", []byte(out), []byte(tc.wantOutput))
				calls := e.f.restCalls()
				if len(calls) != 1 || calls[0].Method != "POST" || calls[0].Path != tc.path {
					t.Fatalf("calls %v, want POST %s", paths(calls), tc.path)
				}
				jsonEqual(t, "request body", calls[0].Body, fixture(t, tc.wantBody))
			})
		}
	}
}

func TestUpsertBatchWithSkips(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, form{"native", func(*testing.T) pluginsdk.Connector { return New() }}, nil)
	out := mustPerform(t, c, actionUpsert, `{"leads": [
		{"email": "anna.rossi@example.com"}, {"email": "dup@example.com"}, {"email": "new.lead@example.com", "firstName": "Nuovo"}]}`)
	jsonEqual(t, "output", []byte(out), []byte(`{"id":50,"status":"updated",
		"leads":[{"id":50,"status":"updated"},{"id":1001,"status":"created"}],
		"skipped":[{"index":1,"code":"1007","message":"Multiple lead match lookup criteria"}]}`))
	_, err := perform(t, c, actionUpsert, `{"lead": {"email": "dup@example.com"}}`)
	if pe := asError(t, err); pe.Retryable || pe.Code != "marketo_1007" || !strings.Contains(pe.Message, "input 0 skipped") {
		t.Errorf("all skipped: %v (retryable %v), want permanent marketo_1007", pe, pe.Retryable)
	}
	// Partial skips of a program status call are reported the same way.
	out = mustPerform(t, c, actionProgram, `{"program_id": 7, "status": "Member", "leads": [50, 4242]}`)
	jsonEqual(t, "program output", []byte(out), []byte(`{"program_id":7,"status":"Member","id":50,
		"leads":[{"id":50,"status":"updated"}],"skipped":[{"index":1,"code":"1004","message":"Lead not found"}]}`))
}

func TestRecordedFixtureOutputs(t *testing.T) {
	r, err := parseResponse(fixture(t, "leads-createOrUpdate-skipped-response.json"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := parseRecords(r.result)
	if err != nil {
		t.Fatal(err)
	}
	out, err := recordsOutput("POST /rest/v1/leads.json", nil, recs, true)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, "output", out, []byte(`{"id":50,"status":"updated","leads":[{"id":50,"status":"updated"}],
		"skipped":[{"index":1,"code":"1007","message":"Multiple lead match lookup criteria"}]}`))
}

func TestActionInputsRefused(t *testing.T) {
	many := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = "50"
		}
		return "[" + strings.Join(ids, ",") + "]"
	}
	cases := []struct {
		action, input, want string
	}{
		{actionUpsert, `{}`, "input needs lead"},
		{actionUpsert, `{"lead": {"firstName": "Anna"}}`, "lead 0 has no email"},
		{actionUpsert, `{"lead": {"email": ""}}`, "lead 0 has no email"},
		{actionUpsert, `{"lead": {"email": null, "firstName": "Anna"}}`, "lead 0 has no email"},
		{actionUpsert, `{"lead": {"email": "a@example.com"}, "lookup_field": "cookie"}`, "lead 0 has no cookie"},
		{actionUpsert, `{"leads": [{"email": "a@example.com"}, 5]}`, "lead 1 is not an object"},
		{actionUpsert, `{"lead": {"email": "a@example.com"}, "lookup_field": "e-mail"}`, "lookup_field"},
		{actionUpsert, `{"lead": {"id": 50}, "lookup_field": "id", "leads": "x"}`, "leads must be a list"},
		{actionUpsert, `[1]`, "input must be a JSON object"},
		{actionUpsert, `{"lead": `, "input"},
		{actionCampaign, `{"lead_id": 50}`, "campaign_id"},
		{actionCampaign, `{"campaign_id": 1001}`, "lead_id or leads"},
		{actionCampaign, `{"campaign_id": 1001, "leads": ` + many(101) + `}`, "at most 100"},
		{actionCampaign, `{"campaign_id": 1001, "leads": [{"email": "a@example.com"}]}`, "leads[0]"},
		{actionCampaign, `{"campaign_id": -3, "lead_id": 50}`, "campaign_id"},
		{actionCampaign, `{"campaign_id": 1001, "lead_id": 50, "tokens": "x"}`, "tokens"},
		{actionCampaign, `{"campaign_id": 1001, "lead_id": 50, "tokens": {"a": {"b": 1}}}`, "tokens.a"},
		{actionCampaign, `{"campaign_id": 1001, "lead_id": 50, "tokens": [{"value": "v"}]}`, "tokens[0]"},
		{actionProgram, `{"program_id": 1234, "lead_id": 50}`, "status"},
		{actionProgram, `{"status": "Member", "lead_id": 50}`, "program_id"},
		{actionProgram, `{"program_id": 1234, "status": "Member", "leads": ` + many(301) + `}`, "at most 300"},
	}
	e := newEnv(t)
	c := e.connect(t, form{"native", func(*testing.T) pluginsdk.Connector { return New() }}, nil)
	for _, tc := range cases {
		_, err := perform(t, c, tc.action, tc.input)
		if err == nil {
			t.Errorf("%s %.60s succeeded", tc.action, tc.input)
			continue
		}
		if pe := asError(t, err); pe.Retryable || !strings.Contains(pe.Message, tc.want) {
			t.Errorf("%s %.60s: %v (retryable %v), want a permanent error about %q", tc.action, tc.input, pe, pe.Retryable, tc.want)
		}
	}
	if n := len(e.f.restCalls()); n != 0 {
		t.Errorf("bad inputs reached Marketo: %v", paths(e.f.restCalls()))
	}
}

func TestTokenNames(t *testing.T) {
	for in, want := range map[string]string{
		"survey_link": "{{my.survey_link}}", "my.survey_link": "{{my.survey_link}}",
		"{{my.survey_link}}": "{{my.survey_link}}", " my.x ": "{{my.x}}", "": "", "my.": "", "a}b": "",
	} {
		if got := tokenName(in); got != want {
			t.Errorf("tokenName(%q) = %q, want %q", in, got, want)
		}
	}
	got, err := campaignTokens("t", []byte(`{"b": 2, "a": true, "c": null}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"name":"{{my.a}}","value":"true"},{"name":"{{my.b}}","value":"2"},{"name":"{{my.c}}","value":""}]`; string(got) != want {
		t.Errorf("tokens %s, want %s", got, want)
	}
}

// TestCampaignTriggeredOncePerTask: a retried task (same idempotency key)
// does not trigger the campaign again.
func TestCampaignTriggeredOncePerTask(t *testing.T) {
	for _, fm := range forms(t) {
		t.Run(fm.name, func(t *testing.T) {
			e := newEnv(t)
			c := e.connect(t, fm, nil)
			req := &pluginsdk.PerformRequest{Action: actionCampaign, Input: json.RawMessage(`{"campaign_id": 1001, "lead_id": 50}`), IdempotencyKey: "run-1/add-to-campaign", Attempt: 1}
			var outs []string
			for attempt := 1; attempt <= 2; attempt++ {
				req.Attempt = attempt
				res, err := c.(pluginsdk.Performer).Perform(context.Background(), req)
				if err != nil {
					t.Fatal(err)
				}
				outs = append(outs, string(res.Output))
			}
			if n := len(e.f.restCalls()); n != 1 || outs[0] != outs[1] {
				t.Errorf("%d trigger calls, outputs %q; want 1 call and the same output", n, outs)
			}
			req.IdempotencyKey = "run-2/add-to-campaign"
			if _, err := c.(pluginsdk.Performer).Perform(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if n := len(e.f.restCalls()); n != 2 {
				t.Errorf("another run: %d trigger calls in all, want 2", n)
			}
		})
	}
}

func TestLookupValue(t *testing.T) {
	lead := []byte(`{"email": "a@example.com", "sfdcLeadId": "00Q5g00000ABCDE", "id": 50}`)
	for field, want := range map[string]string{"email": `"a@example.com"`, "sfdcLeadId": `"00Q5g00000ABCDE"`, "id": `50`, "cookie": ``} {
		if got := string(lookupValue(lead, field)); got != want {
			t.Errorf("lookupValue(%s) = %s, want %s", field, got, want)
		}
	}
}
