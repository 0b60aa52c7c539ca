package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

const annaLead = `{"lead": {"email": "anna.rossi@example.com", "firstName": "Anna", "lastName": "Rossi", "company": "Rossi Arredamenti"}}`

func TestTokenFetchedOnceAndShared(t *testing.T) {
	for _, fm := range forms(t) {
		t.Run(fm.name, func(t *testing.T) {
			e := newEnv(t)
			a := e.connect(t, fm, nil)
			mustPerform(t, a, actionUpsert, annaLead)
			mustPerform(t, a, actionUpsert, annaLead)
			if n := e.f.tokensIssued(); n != 1 {
				t.Fatalf("token requests = %d after two calls, want 1", n)
			}
			// Another instance of the connection (a pool slot, or the hub
			// after a restart) finds the token in the KV store.
			b := e.connect(t, fm, nil)
			mustPerform(t, b, actionProgram, `{"program_id": 1234, "status": "Member", "lead_id": 50}`)
			if n := e.f.tokensIssued(); n != 1 {
				t.Errorf("token requests = %d after a second instance's call, want 1 (shared through KV)", n)
			}
			calls := e.f.restCalls()
			for _, c := range calls {
				if c.Auth != calls[0].Auth || !strings.HasPrefix(c.Auth, "Bearer cdf01657-") {
					t.Errorf("%s %s: Authorization %q, want the one bearer token %q", c.Method, c.Path, c.Auth, calls[0].Auth)
				}
			}
			if keys := e.h.Keys(); !contains(keys, tokenKey) {
				t.Errorf("KV keys %v, want %s", keys, tokenKey)
			}
		})
	}
}

func TestTokenRefreshedAndCallRetried(t *testing.T) {
	cases := []struct {
		name   string
		refuse func(f *fakeMarketo)
	}{
		{"602 expired", func(f *fakeMarketo) { f.expireTokens() }},
		{"601 invalid", func(f *fakeMarketo) { f.injectNext("error-invalid-token.json") }},
	}
	for _, fm := range forms(t) {
		for _, tc := range cases {
			t.Run(fm.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				c := e.connect(t, fm, nil)
				mustPerform(t, c, actionUpsert, annaLead)
				tc.refuse(e.f)
				out := mustPerform(t, c, actionUpsert, annaLead)
				jsonEqual(t, "output", []byte(out), []byte(`{"id":50,"status":"updated","leads":[{"id":50,"status":"updated"}]}`))
				if n := e.f.tokensIssued(); n != 2 {
					t.Errorf("token requests = %d, want 2 (one refresh)", n)
				}
				calls := e.f.restCalls()
				if len(calls) != 3 {
					t.Fatalf("REST calls %v, want 3 (first, refused, retried)", paths(calls))
				}
				if calls[1].Auth == calls[2].Auth {
					t.Errorf("the retry used the refused token %q", calls[2].Auth)
				}
				// The refreshed token is the shared one now.
				other := e.connect(t, fm, nil)
				mustPerform(t, other, actionUpsert, annaLead)
				if n := e.f.tokensIssued(); n != 2 {
					t.Errorf("token requests = %d after another instance's call, want 2", n)
				}
				if last := e.f.restCalls(); last[len(last)-1].Auth != calls[2].Auth {
					t.Errorf("another instance used %q, want the refreshed %q", last[len(last)-1].Auth, calls[2].Auth)
				}
			})
		}
	}
}

func TestTokenRefusedTwiceIsRetryable(t *testing.T) {
	e := newEnv(t)
	c := e.connect(t, form{"native", func(*testing.T) pluginsdk.Connector { return New() }}, nil)
	e.f.injectNext("error-invalid-token.json", "error-token-expired.json")
	_, err := perform(t, c, actionUpsert, annaLead)
	pe := asError(t, err)
	if !pe.Retryable || pe.Code != "marketo_602" {
		t.Errorf("error %v: code %q retryable %v, want retryable marketo_602", pe, pe.Code, pe.Retryable)
	}
	if n := len(e.f.restCalls()); n != 2 {
		t.Errorf("REST calls = %d, want 2 (one retry only)", n)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	e := newEnv(t)
	e.f.expiresIn = 100 // refreshed 10 s early: a tenth of its life
	m := New()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	if err := m.Configure(context.Background(), e.h.Context(e.config(t, nil), testAuth())); err != nil {
		t.Fatal(err)
	}
	mustPerform(t, m, actionUpsert, annaLead)
	now = now.Add(89 * time.Second)
	e.h.Advance(89 * time.Second)
	mustPerform(t, m, actionUpsert, annaLead)
	if n := e.f.tokensIssued(); n != 1 {
		t.Fatalf("token requests = %d at 89 s of 100, want 1", n)
	}
	now = now.Add(2 * time.Second)
	e.h.Advance(2 * time.Second)
	mustPerform(t, m, actionUpsert, annaLead)
	if n := e.f.tokensIssued(); n != 2 {
		t.Errorf("token requests = %d at 91 s of 100, want 2", n)
	}
}

func TestBadCredentialsArePermanent(t *testing.T) {
	for _, fm := range forms(t) {
		t.Run(fm.name, func(t *testing.T) {
			e := newEnv(t)
			c := fm.new(t)
			auth := testAuth()
			auth.ClientSecret = "wrong-secret-value"
			if err := c.Configure(context.Background(), e.h.Context(e.config(t, nil), auth)); err != nil {
				t.Fatal(err)
			}
			_, err := perform(t, c, actionUpsert, annaLead)
			pe := asError(t, err)
			if pe.Retryable || !strings.Contains(pe.Message, "Bad client credentials") {
				t.Errorf("error %q (retryable %v), want a permanent error quoting Marketo", pe, pe.Retryable)
			}
			if strings.Contains(pe.Error(), auth.ClientSecret) {
				t.Errorf("the error shows the client secret: %q", pe)
			}
		})
	}
}

func TestErrorCodesMapped(t *testing.T) {
	cases := []struct {
		name, inject, input string
		action              string
		code                string
		retryable           bool
		retryAfter          time.Duration
		message             string
	}{
		{name: "606 rate limit", inject: "error-rate-limit.json", action: actionUpsert, input: annaLead,
			code: "marketo_606", retryable: true, retryAfter: 20 * time.Second, message: "Max rate limit '100' exceeded"},
		{name: "615 concurrency", inject: "error-concurrency.json", action: actionUpsert, input: annaLead,
			code: "marketo_615", retryable: true, retryAfter: 5 * time.Second, message: "Concurrent access limit reached"},
		{name: "1029 quota", inject: "error-daily-quota.json", action: actionProgram, input: `{"program_id": 1234, "status": "Member", "lead_id": 50}`,
			code: "marketo_1029", retryable: true, retryAfter: time.Hour, message: "Too many jobs"},
		{name: "1013 permanent", action: actionCampaign, input: `{"campaign_id": 9999, "lead_id": 50}`,
			code: "marketo_1013", message: "POST /rest/v1/campaigns/9999/trigger.json: Marketo error 1013: Campaign not found"},
	}
	for _, fm := range forms(t) {
		for _, tc := range cases {
			t.Run(fm.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t)
				c := e.connect(t, fm, nil)
				if tc.inject != "" {
					e.f.injectNext(tc.inject)
				}
				_, err := perform(t, c, tc.action, tc.input)
				pe := asError(t, err)
				if pe.Code != tc.code || pe.Retryable != tc.retryable || pe.RetryAfter != tc.retryAfter {
					t.Errorf("error %q: code %q retryable %v retryAfter %s; want %q %v %s",
						pe, pe.Code, pe.Retryable, pe.RetryAfter, tc.code, tc.retryable, tc.retryAfter)
				}
				if !strings.Contains(pe.Message, tc.message) {
					t.Errorf("message %q does not contain %q", pe.Message, tc.message)
				}
			})
		}
	}
}

func TestRateLimitSharedByInstances(t *testing.T) {
	for _, fm := range forms(t) {
		t.Run(fm.name, func(t *testing.T) {
			e := newEnv(t)
			limit := map[string]any{"rate_limit": 3}
			a, b := e.connect(t, fm, limit), e.connect(t, fm, limit)
			mustPerform(t, a, actionUpsert, annaLead)
			mustPerform(t, b, actionUpsert, annaLead)
			mustPerform(t, a, actionUpsert, annaLead)
			for name, c := range map[string]pluginsdk.Connector{"a": a, "b": b} {
				_, err := perform(t, c, actionUpsert, annaLead)
				pe := asError(t, err)
				if !pe.Retryable || pe.Code != "rate_limited" || pe.RetryAfter <= 0 || pe.RetryAfter > rateWindow+bucketWidth {
					t.Errorf("instance %s: error %q retryable %v after %s; want retryable rate_limited within the window", name, pe, pe.Retryable, pe.RetryAfter)
				}
			}
			if n := len(e.f.restCalls()); n != 3 {
				t.Errorf("Marketo saw %d calls, want 3 (the limit)", n)
			}
		})
	}
}

func TestRateLimitWindowSlides(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 3, 2, 10, 0, 1, 0, time.UTC)
	h := plugintest.NewHost(t)
	kv := h.Context(nil, pluginsdk.Auth{}).KV
	cases := []struct {
		name string
		kv   pluginsdk.KV
		// wait is the RetryAfter of a call at 10 s; free is when a third
		// call is admitted again.
		wait, free time.Duration
	}{
		// Per instance: exact, the first call leaves the window at 20 s.
		{"instance", nil, 10 * time.Second, 20 * time.Second},
		// Shared: 2 s buckets, so up to 2 s later (the instance's own,
		// exact window answers first while it is full).
		{"shared", kv, 10 * time.Second, 21 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(2, tc.kv, h.Logger())
			for i, at := range []time.Duration{0, 5 * time.Second} {
				if err := l.take(ctx, t0.Add(at)); err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			err := l.take(ctx, t0.Add(10*time.Second))
			if err == nil {
				t.Fatal("third call within 20 s admitted")
			}
			if ra := asError(t, err).RetryAfter; ra != tc.wait {
				t.Errorf("RetryAfter = %s, want %s", ra, tc.wait)
			}
			if err := l.take(ctx, t0.Add(tc.free-time.Millisecond)); err == nil {
				t.Errorf("call just before %s admitted", tc.free)
			}
			if err := l.take(ctx, t0.Add(tc.free)); err != nil {
				t.Errorf("call at %s: %v", tc.free, err)
			}
		})
	}
}

func TestWindowAdmit(t *testing.T) {
	at := func(s float64) time.Time {
		return time.Unix(1_800_000_000, 0).Add(time.Duration(s * float64(time.Second)))
	}
	var w window
	var wait time.Duration
	// 4 calls in the first bucket fill a limit of 4.
	for i := 0; i < 4; i++ {
		if w, wait = w.admit(at(0.5), 4); wait != 0 {
			t.Fatalf("call %d refused", i)
		}
	}
	if _, wait = w.admit(at(1), 4); wait != 21*time.Second {
		t.Errorf("wait = %s, want 21s (until the full bucket leaves the 11-bucket window)", wait)
	}
	if _, wait = w.admit(at(22), 4); wait != 0 {
		t.Errorf("at 22 s: wait %s, want admitted", wait)
	}
	// Any 20 s span holds at most the limit: simulate calls every 0.25 s.
	var times []float64
	w = window{}
	for s := 0.0; s < 120; s += 0.25 {
		var wt time.Duration
		if w, wt = w.admit(at(s), 10); wt == 0 {
			times = append(times, s)
		}
	}
	for i := range times {
		n := 0
		for j := i; j < len(times) && times[j]-times[i] < 20; j++ {
			n++
		}
		if n > 10 {
			t.Fatalf("%d calls in the 20 s from %.2f s, limit 10", n, times[i])
		}
	}
	if len(times) < 50 {
		t.Errorf("only %d calls in 120 s at limit 10 per 20 s", len(times))
	}
	// Round trip through the KV encoding.
	got, err := parseWindow(w.encode())
	if err != nil || got != w {
		t.Errorf("parseWindow(encode) = %+v, %v; want %+v", got, err, w)
	}
	if _, err := parseWindow([]byte("nonsense")); err == nil {
		t.Error("parseWindow accepted nonsense")
	}
}

func TestParseResponseFixtures(t *testing.T) {
	cases := []struct {
		file    string
		success bool
		code    string
		token   string
		more    bool
		results int
	}{
		{file: "activities-response.json", success: true, token: "WQV2VQVPPCKHC6AQYVK7JDSA3J62DUSJ3EXJGDPTKPEBFW3SAVUA====", results: 1},
		{file: "paging-token-response.json", success: true, token: "GIYDAOBNGEYS2MBWKQYDAORQGA5DAMBOGAYDAKZQGAYDALBQ"},
		{file: "campaign-trigger-response.json", success: true, results: 1},
		{file: "leads-createOrUpdate-response.json", success: true, results: 1},
		{file: "program-status-response.json", success: true, results: 1},
		{file: "error-rate-limit.json", code: "606"},
		{file: "error-concurrency.json", code: "615"},
		{file: "error-token-expired.json", code: "602"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			r, err := parseResponse(fixture(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if r.success != tc.success || r.nextPageToken != tc.token || r.moreResult != tc.more {
				t.Errorf("success %v token %q more %v", r.success, r.nextPageToken, r.moreResult)
			}
			if tc.code != "" && (len(r.errs) != 1 || r.errs[0].code != tc.code) {
				t.Errorf("errors %+v, want code %s", r.errs, tc.code)
			}
			if tc.results > 0 {
				recs, err := parseRecords(r.result)
				if err != nil || len(recs) != tc.results {
					t.Errorf("records %+v, %v; want %d", recs, err, tc.results)
				}
			}
		})
	}
	for _, bad := range []string{``, `[]`, `{"result": []}`, `{"success": "yes"}`, `{"success": true, "result": {}}`, `{"success": false, "errors": [1]}`} {
		if _, err := parseResponse([]byte(bad)); err == nil {
			t.Errorf("parseResponse(%s) succeeded", bad)
		}
	}
	// Numeric codes are read too.
	r, err := parseResponse([]byte(`{"success": false, "errors": [{"code": 606, "message": "slow down"}]}`))
	if err != nil || len(r.errs) != 1 || r.errs[0].code != "606" {
		t.Errorf("numeric code: %+v, %v", r.errs, err)
	}
}

func TestConfigureRefuses(t *testing.T) {
	good := pluginsdk.Auth{Type: pluginsdk.AuthOAuth2, ClientID: "id", ClientSecret: "secret"}
	cases := []struct {
		name   string
		config string
		auth   pluginsdk.Auth
		want   []string
	}{
		{"no base_url", `{}`, good, []string{"base_url"}},
		{"base_url with a path", `{"base_url": "https://123-ABC-456.mktorest.com/rest/v1"}`, good, []string{"base_url", "no path"}},
		{"not oauth2", `{"base_url": "https://x.mktorest.com"}`, pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "k"}, []string{"oauth2"}},
		{"too many types", `{"base_url": "https://x.mktorest.com", "activity_type_ids": [1,2,3,4,5,6,7,8,9,10,11]}`, good, []string{"activity_type_ids", "at most 10"}},
		{"several problems", `{"base_url": "https://x.mktorest.com", "batch_size": 500, "since": "yesterday", "pool_size": 12, "colour": "red"}`, good,
			[]string{"batch_size", "since", "pool_size", "config.colour: unknown key"}},
		{"wrong type", `{"base_url": "https://x.mktorest.com", "rate_limit": "fast"}`, good, []string{"config.rate_limit: want a whole number"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.NewHost(t)
			err := New().Configure(context.Background(), h.Context(json.RawMessage(tc.config), tc.auth))
			if err == nil {
				t.Fatal("Configure succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	// The token URL defaults to the instance's identity endpoint.
	m := New()
	h := plugintest.NewHost(t)
	if err := m.Configure(context.Background(), h.Context(json.RawMessage(`{"base_url": "https://123-ABC-456.mktorest.com/"}`), good)); err != nil {
		t.Fatal(err)
	}
	if m.cfg.tokenURL != "https://123-ABC-456.mktorest.com/identity/oauth/token" || m.cfg.base != "https://123-ABC-456.mktorest.com" {
		t.Errorf("base %q token URL %q", m.cfg.base, m.cfg.tokenURL)
	}
}
