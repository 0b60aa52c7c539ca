package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// FuzzReceive feeds arbitrary bodies to the SOAP parser through Receive,
// seeded with the fixtures (and testdata/fuzz/FuzzReceive). Whatever the
// body, Receive must not panic and must either acknowledge 1 to 100 valid
// events with their notification Ids as dedup keys, or refuse with a SOAP
// fault and no event.
func FuzzReceive(f *testing.F) {
	for _, body := range fixtures(f) {
		f.Add(body)
	}
	f.Add(notificationsXML(testOrg, 3))
	f.Add(notificationsXML("00D5e000000AbCdEAK", 1))
	// Not plugintest's host: its logger writes to f, which a fuzz target
	// may not use.
	c := &Salesforce{}
	pc := &pluginsdk.Context{Connection: "fuzz", Config: json.RawMessage(testConfig), Log: slog.New(slog.DiscardHandler)}
	if err := c.Configure(context.Background(), pc); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := post(body)
		res, err := c.Receive(context.Background(), &req)
		if err != nil {
			t.Fatalf("Receive error %v: refusals must be SOAP faults", err)
		}
		if res.Response.Status != 200 {
			if len(res.Events) != 0 {
				t.Fatalf("status %d with %d events", res.Response.Status, len(res.Events))
			}
			if f := parseFault(t, res.Response.Body); f.String == "" {
				t.Fatalf("fault without a reason: %s", res.Response.Body)
			}
			return
		}
		if n := len(res.Events); n < 1 || n > maxNotifications {
			t.Fatalf("acknowledged %d events", n)
		}
		for i, ev := range res.Events {
			var p struct {
				Object         string                     `json:"object"`
				NotificationID string                     `json:"notificationId"`
				OrganizationID string                     `json:"organizationId"`
				SObject        map[string]json.RawMessage `json:"sObject"`
			}
			if err := json.Unmarshal(ev.Payload, &p); err != nil {
				t.Fatalf("event %d payload %s: %v", i, ev.Payload, err)
			}
			if p.NotificationID == "" || p.NotificationID != ev.DedupKey || p.Object != ev.Type || !isName(p.Object) || p.SObject == nil {
				t.Fatalf("event %d: %+v (dedup %q, type %q)", i, p, ev.DedupKey, ev.Type)
			}
			if !strings.HasPrefix(p.OrganizationID, testOrg[:15]) {
				t.Fatalf("event %d from organization %q was acknowledged", i, p.OrganizationID)
			}
		}
	})
}
