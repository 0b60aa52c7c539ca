package twilio

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// BenchmarkReceive measures verifying and parsing one inbound SMS webhook.
func BenchmarkReceive(b *testing.B) {
	raw, err := os.ReadFile("testdata/inbound-sms.form")
	if err != nil {
		b.Fatal(err)
	}
	body := strings.TrimSpace(string(raw))
	c := New().(*Connector)
	if err := c.Configure(context.Background(), &pluginsdk.Context{Connection: "sms-replies",
		Config: json.RawMessage(`{"account_sid": "` + testSID + `", "from": "+15005550006"}`),
		Auth:   pluginsdk.Auth{Type: pluginsdk.AuthBasic, Username: testSID, Password: fixtureToken}}); err != nil {
		b.Fatal(err)
	}
	req := &pluginsdk.HTTPRequest{Method: "POST", URL: fixtureURL, Body: []byte(body), Header: map[string][]string{
		"Content-Type": {"application/x-www-form-urlencoded"}, SignatureHeader: {twilioSignature(fixtureToken, fixtureURL, body)}}}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := c.Receive(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "webhooks/s")
}
