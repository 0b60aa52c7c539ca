package twilio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

func TestAcceptance(t *testing.T) {
	created, err := os.ReadFile("testdata/message-created-response.json")
	if err != nil {
		t.Fatal(err)
	}
	invalidTo, err := os.ReadFile("testdata/error-invalid-to.json")
	if err != nil {
		t.Fatal(err)
	}
	body, header := fixture(t)

	tg := plugintest.Native(Name, New)
	tg.Config = json.RawMessage(`{"account_sid": "` + testSID + `", "from": "+15005550006"}`)
	tg.Auth = pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testSID, Password: fixtureToken}
	tg.BadConfigs = []plugintest.BadConfig{
		{Config: json.RawMessage(`{"account_sid": "` + testSID + `"}`), WantMissing: []string{"from", "messaging_service_sid"}},
		{Config: json.RawMessage(`{"account_sid": "` + testSID + `", "from": "+15005550006", "timeout": "soon"}`), WantMissing: []string{"timeout"}},
	}
	tg.Host = func(h *plugintest.Host) {
		h.AllowHosts("api.twilio.com")
		h.HandleHTTPFunc(func(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
			form, _ := url.ParseQuery(string(req.Body))
			if req.URL != "https://api.twilio.com"+MessagesPath(testSID) || http.Header(req.Header).Get("Authorization") == "" {
				return &pluginsdk.HTTPResponse{Status: 404}, nil
			}
			if form.Get("To") == "+39000" {
				return &pluginsdk.HTTPResponse{Status: 400, Body: invalidTo}, nil
			}
			return &pluginsdk.HTTPResponse{Status: 201, Body: created}, nil
		})
	}
	tg.Authorize = func(req *pluginsdk.HTTPRequest) {
		if req.URL == "" {
			req.URL = fixtureURL
		}
		if req.Header == nil {
			req.Header = map[string][]string{}
		}
		if _, set := req.Header[SignatureHeader]; !set {
			req.Header[SignatureHeader] = []string{twilioSignature(fixtureToken, req.URL, string(req.Body))}
		}
	}
	form := map[string][]string{"Content-Type": header["Content-Type"]}
	tg.Receive = []plugintest.ReceiveCase{
		{Name: "reply", Request: pluginsdk.HTTPRequest{Method: "POST", Header: form, Body: []byte(body)}, WantStatus: 200, WantEvents: 1},
		{Name: "forged", Request: pluginsdk.HTTPRequest{Method: "POST", Body: []byte(body),
			Header: map[string][]string{"Content-Type": header["Content-Type"], SignatureHeader: {"Zm9yZ2Vk"}}}, WantStatus: 403},
		{Name: "GET", Request: pluginsdk.HTTPRequest{Method: "GET", Header: form}, WantStatus: 405},
		{Name: "no sid", Request: pluginsdk.HTTPRequest{Method: "POST", Header: form, Body: []byte("Body=hi")}, WantStatus: 400},
	}
	tg.Perform = []plugintest.PerformCase{
		{Name: "send", Request: pluginsdk.PerformRequest{Action: ActionSendSMS, Input: json.RawMessage(`{"to": "+393331234567", "body": "Ciao"}`)},
			Check: func(t *testing.T, h *plugintest.Host, res *pluginsdk.PerformResult, err error) {
				if err == nil && !strings.Contains(string(res.Output), `"sid":"SM1f0e8ae6ade43cb3c0ce4525424e404f"`) {
					t.Errorf("output %s", res.Output)
				}
			}},
		{Name: "invalid To", Request: pluginsdk.PerformRequest{Action: ActionSendSMS, Input: json.RawMessage(`{"to": "+39000", "body": "Ciao"}`)},
			WantError: true, WantRetryable: false},
	}
	plugintest.Acceptance(t, tg)
}
