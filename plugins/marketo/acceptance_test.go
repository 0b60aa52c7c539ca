package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// target is the acceptance Target against a fake Marketo holding seven
// activities (two lead changes among them), read two at a time so the suite
// resumes from a cursor mid-stream.
func target(t *testing.T) plugintest.Target {
	f := newFakeMarketo(t)
	f.addActivities(5, 1, 50, 51)
	f.addActivities(2, 13, 51, 52)
	cfg, _ := json.Marshal(map[string]any{"base_url": f.URL(), "since": "2026-03-01T00:00:00Z", "batch_size": 2})
	perform := func(action, input string) pluginsdk.PerformRequest {
		return pluginsdk.PerformRequest{Action: action, Input: json.RawMessage(input), Attempt: 1}
	}
	return plugintest.Target{
		Config: cfg,
		Auth:   testAuth(),
		BadConfigs: []plugintest.BadConfig{
			{Config: json.RawMessage(`{"base_url": "ftp://x.mktorest.com"}`), WantMissing: []string{"base_url"}},
			{Config: json.RawMessage(`{"base_url": "https://x.mktorest.com", "batch_size": 0, "activity_type_ids": []}`), WantMissing: []string{"batch_size", "activity_type_ids"}},
		},
		Host: func(h *plugintest.Host) { useHostHTTP(t, h) },
		Fetch: []plugintest.FetchCase{
			{Name: "activities", Entity: entityActivities, Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.FetchResult, err error) {
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Events) != 2 || !res.More {
					t.Errorf("%d events, more %v; want a first page of 2 with more", len(res.Events), res.More)
				}
			}},
			{Name: "leads", Entity: entityLeads, Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.FetchResult, err error) {
				if err != nil {
					t.Fatal(err)
				}
				// The first page scans two web visits: no lead changes yet.
				if len(res.Events) != 0 || !res.More {
					t.Errorf("%d events, more %v; want an empty first page with more", len(res.Events), res.More)
				}
			}},
		},
		Perform: []plugintest.PerformCase{
			{Name: "upsert", Request: perform(actionUpsert, annaLead), Check: func(t *testing.T, _ *plugintest.Host, res *pluginsdk.PerformResult, err error) {
				if err == nil && !strings.Contains(string(res.Output), `"id":50`) {
					t.Errorf("output %s", res.Output)
				}
			}},
			{Name: "campaign", Request: perform(actionCampaign, `{"campaign_id": 1001, "lead_id": 50, "tokens": {"survey_link": "https://surveys.example.com/jfe/form/SV_demo"}}`)},
			{Name: "program", Request: perform(actionProgram, `{"program_id": 1234, "status": "Member", "leads": [50, 51]}`)},
			{Name: "unknown campaign is permanent", Request: perform(actionCampaign, `{"campaign_id": 9999, "lead_id": 50}`), WantError: true},
			{Name: "bad input is permanent", Request: perform(actionProgram, `{"program_id": 1234}`), WantError: true},
		},
	}
}

func TestAcceptanceNative(t *testing.T) {
	tg := target(t)
	native := plugintest.Native("native", func() pluginsdk.Connector { return New() })
	tg.Name, tg.New, tg.Native = native.Name, native.New, native.Native
	plugintest.Acceptance(t, tg)
}

func TestAcceptanceWasm(t *testing.T) {
	tg := target(t)
	tg.Name, tg.New = "wasm", hostrun.Wasm(t, ".")
	plugintest.Acceptance(t, tg)
}
