package twilio

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/textproto"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// twilioSignature computes X-Twilio-Signature the way Twilio's security
// documentation describes it, independently of Sign: take the full URL,
// append each POST parameter's name and value sorted by name, HMAC-SHA1
// with the Auth Token, base64.
func twilioSignature(token, fullURL, body string) string {
	params, _ := url.ParseQuery(body)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	var s strings.Builder
	s.WriteString(fullURL)
	for _, k := range names {
		s.WriteString(k + params.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// fixture reads the inbound SMS body and headers Twilio would send.
func fixture(t *testing.T) (body string, header map[string][]string) {
	t.Helper()
	b, err := os.ReadFile("testdata/inbound-sms.form")
	if err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile("testdata/inbound-sms.headers")
	if err != nil {
		t.Fatal(err)
	}
	var lines bytes.Buffer
	for _, l := range strings.Split(string(h), "\n") {
		if !strings.HasPrefix(l, "#") {
			lines.WriteString(l + "\r\n")
		}
	}
	lines.WriteString("\r\n")
	mh, err := textproto.NewReader(bufio.NewReader(&lines)).ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b)), mh
}

// fixtureURL and fixtureToken are what the fixture's signature covers (see
// the comment in testdata/inbound-sms.headers).
const (
	fixtureURL   = "https://junction.example.com/hooks/sms-replies"
	fixtureToken = "example-auth-token"
)

func receiver(t *testing.T) *Connector {
	t.Helper()
	c := New().(*Connector)
	err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "sms-replies",
		Config:  json.RawMessage(`{"account_sid": "` + testSID + `", "from": "+15005550006"}`),
		BaseURL: "https://junction.example.com",
		Auth:    pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testSID, Password: fixtureToken}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignatureMatchesTwilioDocs(t *testing.T) {
	body, header := fixture(t)
	if got := twilioSignature(fixtureToken, fixtureURL, body); got != header["X-Twilio-Signature"][0] {
		t.Fatalf("independent signature %s, fixture %s", got, header["X-Twilio-Signature"][0])
	}
	params, _ := url.ParseQuery(body)
	if got := Sign(fixtureToken, fixtureURL, params); got != header["X-Twilio-Signature"][0] {
		t.Errorf("Sign = %s, want the fixture's %s", got, header["X-Twilio-Signature"][0])
	}
	// The example in Twilio's security documentation.
	doc := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"}, "From": {"+12349013030"}, "To": {"+18005551212"}}
	if got := Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", doc); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Errorf("Sign(Twilio's example) = %s", got)
	}
}

func TestReceiveSignedReply(t *testing.T) {
	body, header := fixture(t)
	c := receiver(t)
	res, err := c.Receive(context.Background(), &pluginsdk.HTTPRequest{Method: "POST", URL: fixtureURL, Header: header, Body: []byte(body)})
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	if res.Response.Status != 200 || string(res.Response.Body) != EmptyTwiML || !strings.HasPrefix(res.Response.Header["Content-Type"][0], "text/xml") {
		t.Errorf("response %d %v %s", res.Response.Status, res.Response.Header, res.Response.Body)
	}
	if len(res.Events) != 1 {
		t.Fatalf("%d events", len(res.Events))
	}
	ev := res.Events[0]
	var p map[string]any
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if ev.Type != EventReply || ev.DedupKey != "SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d" || p["type"] != "sms_reply" ||
		p["messageSid"] != "SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d" || p["from"] != "+393331234567" || p["to"] != "+15005550006" ||
		p["body"] != "9" || p["accountSid"] != testSID || p["numMedia"] != float64(0) {
		t.Errorf("event %s %s %s", ev.Type, ev.DedupKey, ev.Payload)
	}
}

func TestReceiveRefusesBadSignatures(t *testing.T) {
	body, header := fixture(t)
	c := receiver(t)
	withSig := func(sig string) map[string][]string {
		h := map[string][]string{"Content-Type": header["Content-Type"]}
		if sig != "" {
			h[SignatureHeader] = []string{sig}
		}
		return h
	}
	tests := []struct {
		name       string
		url        string
		header     map[string][]string
		body       string
		wantStatus int
	}{
		{"wrong signature", fixtureURL, withSig("AAAAAAAAAAAAAAAAAAAAAAAAAAA="), body, 403},
		{"signed by another token", fixtureURL, withSig(twilioSignature("other-token", fixtureURL, body)), body, 403},
		{"body changed", fixtureURL, header, strings.Replace(body, "Body=9", "Body=10", 1), 403},
		{"other URL", "https://junction.example.com/hooks/other", header, body, 403},
		{"no signature", fixtureURL, withSig(""), body, 401},
		{"not a form", fixtureURL, map[string][]string{"Content-Type": {"application/json"}, SignatureHeader: header[SignatureHeader]}, `{}`, 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Receive(context.Background(), &pluginsdk.HTTPRequest{Method: "POST", URL: tt.url, Header: tt.header, Body: []byte(tt.body)})
			if pe := pluginsdk.AsError(err); err == nil || pe.Status != tt.wantStatus {
				t.Errorf("Receive error %v, want status %d", err, tt.wantStatus)
			}
		})
	}
}

func TestReceiveAcceptsDefaultPortVariants(t *testing.T) {
	body, _ := fixture(t)
	c := receiver(t)
	for _, tc := range []struct{ signed, called string }{
		{"https://junction.example.com:443/hooks/sms-replies", fixtureURL},
		{fixtureURL, "https://junction.example.com:443/hooks/sms-replies"},
		{fixtureURL + "?source=twilio", fixtureURL + "?source=twilio"},
	} {
		h := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, SignatureHeader: {twilioSignature(fixtureToken, tc.signed, body)}}
		if _, err := c.Receive(context.Background(), &pluginsdk.HTTPRequest{Method: "POST", URL: tc.called, Header: h, Body: []byte(body)}); err != nil {
			t.Errorf("signed %s, called %s: %v", tc.signed, tc.called, err)
		}
	}
	// Without a URL on the request, the hub's base URL and the connection's
	// hook path are what Twilio called.
	h := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, SignatureHeader: {twilioSignature(fixtureToken, fixtureURL, body)}}
	if _, err := c.Receive(context.Background(), &pluginsdk.HTTPRequest{Method: "POST", Header: h, Body: []byte(body)}); err != nil {
		t.Errorf("no request URL: %v", err)
	}
}

func TestReceiveStatusCallback(t *testing.T) {
	body := "MessageSid=SM1f0e8ae6ade43cb3c0ce4525424e404f&MessageStatus=undelivered&ErrorCode=30003&AccountSid=" + testSID + "&From=%2B15005550006&To=%2B393331234567"
	h := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, SignatureHeader: {twilioSignature(fixtureToken, fixtureURL, body)}}
	res, err := receiver(t).Receive(context.Background(), &pluginsdk.HTTPRequest{Method: "POST", URL: fixtureURL, Header: h, Body: []byte(body)})
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Events[0]
	var p map[string]any
	_ = json.Unmarshal(ev.Payload, &p)
	if ev.Type != EventStatus || ev.DedupKey != "SM1f0e8ae6ade43cb3c0ce4525424e404f/undelivered" || p["status"] != "undelivered" || p["errorCode"] != "30003" {
		t.Errorf("event %s %s %s", ev.Type, ev.DedupKey, ev.Payload)
	}
}

// FuzzReceive feeds signed garbage forms: Receive must answer a 4xx error or
// one event with a valid JSON payload, never panic.
func FuzzReceive(f *testing.F) {
	b, err := os.ReadFile("testdata/inbound-sms.form")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(b))
	f.Add("MessageSid=SM1&MessageStatus=sent")
	f.Add("a=%zz")
	f.Add("MessageSid=SM1&NumMedia=99999999999&MediaUrl0=x")
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "sms-replies",
		Config: json.RawMessage(`{"account_sid": "` + testSID + `", "from": "+15005550006"}`),
		Auth:   pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testSID, Password: fixtureToken}}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		h := map[string][]string{"Content-Type": {"application/x-www-form-urlencoded"}, SignatureHeader: {twilioSignature(fixtureToken, fixtureURL, body)}}
		res, err := c.Receive(context.Background(), &pluginsdk.HTTPRequest{Method: "POST", URL: fixtureURL, Header: h, Body: []byte(body)})
		if err != nil {
			if pe := pluginsdk.AsError(err); pe.Status < 400 || pe.Status > 499 {
				t.Fatalf("error %v: status %d", err, pe.Status)
			}
			return
		}
		if len(res.Events) != 1 || !json.Valid(res.Events[0].Payload) {
			t.Fatalf("result %+v", res)
		}
	})
}
