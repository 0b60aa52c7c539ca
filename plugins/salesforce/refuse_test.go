package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

// Every refusal is a SOAP fault with the reason and the status Salesforce
// expects, and no event.
func TestRefusals(t *testing.T) {
	caseXML := string(fixture(t, "case-closed.xml"))
	replace := func(old, new string) []byte {
		if !strings.Contains(caseXML, old) {
			t.Fatalf("case-closed.xml has no %q", old)
		}
		return []byte(strings.Replace(caseXML, old, new, 1))
	}
	withHeader := func(body []byte, k, v string) pluginsdk.HTTPRequest {
		r := post(body)
		r.Header[k] = []string{v}
		return r
	}
	tests := []struct {
		name   string
		req    pluginsdk.HTTPRequest
		status int
		want   []string // in the faultstring
	}{
		{"foreign organization", post(replace(testOrg, "00D5e000000AbCdEAK")), 401,
			[]string{"organization 00D5e000000AbCdEAK is not allowed", "config.organization_ids", "first 15 characters"}},
		{"organization differs in case", post(replace(testOrg, "00d000000000062EAA")), 401, []string{"00d000000000062EAA"}},
		{"organization too short", post(replace(testOrg, "00D0000")), 401, []string{"organization 00D0000 is not allowed"}},
		{"truncated XML", post([]byte(caseXML[:len(caseXML)/2])), 500, []string{"malformed outbound message", "XML syntax error"}},
		{"JSON sent as XML", post([]byte(`{"object":"Case"}`)), 500, []string{"malformed outbound message", "not XML"}},
		{"empty body", post(nil), 500, []string{"no XML element"}},
		{"not a SOAP envelope", post([]byte(`<notifications xmlns="http://soap.sforce.com/2005/09/outbound"/>`)), 500, []string{"not a SOAP Envelope"}},
		{"another SOAP message", post(replace("<notifications xmlns=\"http://soap.sforce.com/2005/09/outbound\">", `<notifications xmlns="urn:other">`)), 500,
			[]string{"{urn:other}notifications", "not a Salesforce outbound message"}},
		{"no Body", post([]byte(`<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/></e:Envelope>`)), 500, []string{"no Body"}},
		{"no organization", post(replace("<OrganizationId>"+testOrg+"</OrganizationId>", "")), 500, []string{"no OrganizationId"}},
		{"no notification", post([]byte(strings.Join(strings.SplitAfter(caseXML, "</PartnerUrl>")[:1], "") + "</notifications></soapenv:Body></soapenv:Envelope>")), 500,
			[]string{"no Notification"}},
		{"notification without Id", post(replace("<Id>04l5e00000CmnS7AAJ</Id>", "")), 500, []string{"notification 1 has no Id"}},
		{"sObject without type", post(replace(`xsi:type="sf:Case" `, "")), 500, []string{"notification 1: sObject has no xsi:type"}},
		{"bad object type", post(replace(`xsi:type="sf:Case"`, `xsi:type="sf:Ca se"`)), 500, []string{`xsi:type "sf:Ca se" is not an object name`}},
		{"field twice", post(replace("<sf:Origin>Phone</sf:Origin>", "<sf:Status>Open</sf:Status>")), 500, []string{"field Status appears twice"}},
		{"mixed content", post(replace("<sf:Origin>Phone</sf:Origin>", "<sf:Origin>Ph<sf:x/>one</sf:Origin>")), 500, []string{"Origin mixes text and elements"}},
		{"101 notifications", post(notificationsXML(testOrg, 101)), 413, []string{"more than 100 notifications"}},
		{"text after the envelope", post([]byte(caseXML + "trailing")), 500, []string{"text after the Envelope"}},
		{"entity expansion", post([]byte(`<?xml version="1.0"?><!DOCTYPE e [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>` +
			`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&b;</soapenv:Body></soapenv:Envelope>`)), 500,
			[]string{"XML syntax error", "entity"}},
		{"JSON content type", withHeader(fixture(t, "case-closed.xml"), "Content-Type", "application/json"), 415,
			[]string{"Content-Type application/json is not XML"}},
		{"GET", func() pluginsdk.HTTPRequest { r := post(nil); r.Method = "GET"; return r }(), 405, []string{"method GET"}},
	}
	for name, newConn := range forms(t) {
		t.Run(name, func(t *testing.T) {
			r := configured(t, newConn(t), testConfig)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					req := tc.req
					res, err := r.Receive(context.Background(), &req)
					if err != nil {
						t.Fatalf("Receive error %v, want a SOAP fault response", err)
					}
					if len(res.Events) != 0 || res.Response.Status != tc.status {
						t.Fatalf("%d events, status %d; want none and %d", len(res.Events), res.Response.Status, tc.status)
					}
					f := parseFault(t, res.Response.Body)
					if f.Code != "soapenv:Client" {
						t.Errorf("faultcode %q, want soapenv:Client", f.Code)
					}
					for _, w := range tc.want {
						if !strings.Contains(f.String, w) {
							t.Errorf("faultstring %q does not say %q", f.String, w)
						}
					}
				})
			}
		})
	}
}

// Accepted leniently: a 15-character organization ID for an 18-character
// allow-list entry and the reverse, SOAP 1.2's media type, a missing
// Content-Type or SOAPAction.
func TestAcceptedVariants(t *testing.T) {
	caseXML := string(fixture(t, "case-closed.xml"))
	bare := post([]byte(caseXML))
	bare.Header = nil
	soap12 := post([]byte(caseXML))
	soap12.Header["Content-Type"] = []string{`application/soap+xml; charset=utf-8; action=""`}
	tests := []struct {
		name, config string
		req          pluginsdk.HTTPRequest
	}{
		{"15-char id in the message", testConfig, post([]byte(strings.Replace(caseXML, testOrg, testOrg[:15], 1)))},
		{"15-char id configured", `{"organization_ids": ["00D000000000062"]}`, post([]byte(caseXML))},
		{"one of several", `{"organization_ids": "00D5e000000AbCdEAK, 00D000000000062"}`, post([]byte(caseXML))},
		{"no headers", testConfig, bare},
		{"SOAP 1.2 media type", testConfig, soap12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := configured(t, &Salesforce{}, tc.config)
			res, err := r.Receive(context.Background(), &tc.req)
			if err != nil || res.Response.Status != 200 || len(res.Events) != 1 {
				t.Fatalf("receive: %+v %v", res, err)
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	tests := []struct {
		name, config string
		auth         pluginsdk.Auth
		want         []string // "" for success
	}{
		{"ok", testConfig, pluginsdk.Auth{}, nil},
		{"ok with window", `{"organization_ids": ["00D000000000062EAA"], "dedup_window": "48h"}`, pluginsdk.Auth{}, nil},
		{"missing", `{}`, pluginsdk.Auth{}, []string{"config.organization_ids: required"}},
		{"empty list", `{"organization_ids": []}`, pluginsdk.Auth{}, []string{"config.organization_ids: required"}},
		{"not a list", `{"organization_ids": 5}`, pluginsdk.Auth{}, []string{"config.organization_ids: want a list"}},
		{"wrong length", `{"organization_ids": ["00D00000000006"]}`, pluginsdk.Auth{}, []string{`"00D00000000006" has 14 characters`}},
		{"not an org", `{"organization_ids": ["0015e00000AbCdE"]}`, pluginsdk.Auth{}, []string{"those start with 00D"}},
		{"bad checksum", `{"organization_ids": ["00D000000000062EAB"]}`, pluginsdk.Auth{}, []string{"should be EAA"}},
		{"symbols", `{"organization_ids": ["00D0000000-0062"]}`, pluginsdk.Auth{}, []string{"only letters and digits"}},
		{"bad window", `{"organization_ids": ["00D000000000062EAA"], "dedup_window": "1 day"}`, pluginsdk.Auth{}, []string{"config.dedup_window"}},
		{"unknown key and missing", `{"organization_id": "00D000000000062EAA"}`, pluginsdk.Auth{},
			[]string{"config.organization_id: unknown key", "config.organization_ids: required"}},
		{"path token", testConfig, pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: testToken}, nil},
		{"auth none", testConfig, pluginsdk.Auth{Type: pluginsdk.AuthNone}, nil},
		{"short path token", testConfig, pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "x"}, []string{"auth.secret: the path token has 1 characters; use at least 16"}},
		{"path token with a slash", testConfig, pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: "abcdefgh/ijklmnopq"}, []string{"auth.secret: the path token may hold only"}},
		{"basic auth", testConfig, pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: "u", Password: "p"}, []string{"auth: type basic is not used", "use api_key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := plugintest.NewHost(t)
			err := (&Salesforce{}).Configure(context.Background(), h.Context(json.RawMessage(tc.config), tc.auth))
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Configure(%s) succeeded", tc.config)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestIDChecksum(t *testing.T) {
	for id15, want := range map[string]string{
		"00D000000000062": "EAA", // the fixtures' organization
		"0015e00000AbCdE": "AAV", // upper case in the 3rd chunk only
		"001A0000006Vm9r": "IAC",
		"00Q5e00001AbCdE": "EAV",
	} {
		if got := idChecksum(id15); got != want {
			t.Errorf("idChecksum(%s) = %s, want %s", id15, got, want)
		}
	}
}

func target(t *testing.T) plugintest.Target {
	return plugintest.Target{
		Config:    json.RawMessage(testConfig),
		Auth:      pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: testToken},
		Authorize: func(req *pluginsdk.HTTPRequest) { req.Path = "/" + testToken },
		BadConfigs: []plugintest.BadConfig{
			{Config: json.RawMessage(`{"organization_ids": ["00D"]}`), WantMissing: []string{"organization_ids"}},
			{Config: json.RawMessage(`{"organization_ids": ["00D000000000062EAA"], "dedup_window": "soon"}`), WantMissing: []string{"dedup_window"}},
		},
		Receive: []plugintest.ReceiveCase{
			{Name: "case closed", Request: post(fixture(t, "case-closed.xml")), WantEvents: 1},
			{Name: "two leads", Request: post(fixture(t, "lead-two-notifications.xml")), WantEvents: 2},
			{Name: "opportunity won", Request: post(fixture(t, "opportunity-won.xml")), WantEvents: 1},
			{Name: "100 notifications", Request: post(notificationsXML(testOrg, 100)), WantEvents: 100},
		},
	}
}

func TestAcceptanceNative(t *testing.T) {
	tg := target(t)
	n := plugintest.Native("native", func() pluginsdk.Connector { return &Salesforce{} })
	tg.Name, tg.New, tg.Native = n.Name, n.New, n.Native
	plugintest.Acceptance(t, tg)
}

func TestAcceptanceWasm(t *testing.T) {
	tg := target(t)
	tg.Name, tg.New = "wasm", hostrun.Wasm(t, ".")
	plugintest.Acceptance(t, tg)
}
