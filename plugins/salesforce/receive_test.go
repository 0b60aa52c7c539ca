package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest/hostrun"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// forms returns the connector built natively and as Wasm; every behaviour
// test runs on both.
func forms(t *testing.T) map[string]func(t *testing.T) pluginsdk.Connector {
	t.Helper()
	return map[string]func(t *testing.T) pluginsdk.Connector{
		"native": func(*testing.T) pluginsdk.Connector { return &Salesforce{} },
		"wasm":   hostrun.Wasm(t, "."),
	}
}

// The Case of the shared fixture becomes exactly CONTRACT's event shape.
func TestCaseEventShape(t *testing.T) {
	const want = `{"object":"Case","notificationId":"04l5e00000CmnS7AAJ","organizationId":"00D000000000062EAA","actionId":"04k5e000000TtTrAAK",` +
		`"sObject":{"Id":"5005e00000M6QmyAAF","CaseNumber":"00001026","ContactEmail":"marco.bianchi@example.com","ContactId":"0035e00000XyZ12AAB",` +
		`"IsClosed":"true","Origin":"Phone","Priority":"High","Status":"Closed","Subject":"Billing address wrong & invoice resent","SuppliedName":"Marco Bianchi"}}`
	for name, newConn := range forms(t) {
		t.Run(name, func(t *testing.T) {
			r := configured(t, newConn(t), testConfig)
			req := post(fixture(t, "case-closed.xml"))
			res, err := r.Receive(context.Background(), &req)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 1 {
				t.Fatalf("%d events, want 1", len(res.Events))
			}
			ev := res.Events[0]
			if string(ev.Payload) != want {
				t.Errorf("payload\n got %s\nwant %s", ev.Payload, want)
			}
			if ev.DedupKey != "04l5e00000CmnS7AAJ" || ev.Type != "Case" || !ev.Time.IsZero() {
				t.Errorf("dedup key %q, type %q, time %v; want the notification Id, Case, zero", ev.DedupKey, ev.Type, ev.Time)
			}
		})
	}
}

// Every fixture is acknowledged with the ack of the shared fixture, and its
// events match the golden files (go test -update rewrites them).
func TestFixturesGolden(t *testing.T) {
	ack, err := canonicalXML(fixture(t, "ack-response.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, newConn := range forms(t) {
		t.Run(name, func(t *testing.T) {
			r := configured(t, newConn(t), testConfig)
			for file, body := range fixtures(t) {
				req := post(body)
				res, err := r.Receive(context.Background(), &req)
				if err != nil {
					t.Fatalf("%s: %v", file, err)
				}
				got, err := canonicalXML(res.Response.Body)
				if err != nil || res.Response.Status != 200 || !slices.Equal(got, ack) {
					t.Errorf("%s: response %d %s (%v), want the ack of ack-response.xml", file, res.Response.Status, res.Response.Body, err)
				}
				if ct := res.Response.Header["Content-Type"]; len(ct) != 1 || !strings.HasPrefix(ct[0], "text/xml") {
					t.Errorf("%s: response Content-Type %v, want text/xml", file, ct)
				}
				var out bytes.Buffer
				for _, ev := range res.Events {
					line, _ := json.Marshal(struct {
						Type, DedupKey string
						Time           time.Time
						Payload        json.RawMessage
					}{ev.Type, ev.DedupKey, ev.Time, ev.Payload})
					out.Write(line)
					out.WriteByte('\n')
				}
				golden := filepath.Join("testdata", "golden", strings.TrimSuffix(file, ".xml")+".jsonl")
				if *update && name == "native" {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("%s: events\n got %s\nwant %s", file, out.Bytes(), want)
				}
			}
		})
	}
}

func TestEventDetails(t *testing.T) {
	r := configured(t, &Salesforce{}, testConfig)
	req := post(fixture(t, "opportunity-won.xml"))
	res, err := r.Receive(context.Background(), &req)
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("receive: %v %v", res, err)
	}
	ev := res.Events[0]
	if want := time.Date(2026, 3, 2, 10, 21, 0, 0, time.UTC); !ev.Time.Equal(want) {
		t.Errorf("time %v, want LastModifiedDate %v", ev.Time, want)
	}
	var p struct {
		SObject map[string]any `json:"sObject"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if v, ok := p.SObject["NextStep"]; !ok || v != nil {
		t.Errorf("NextStep = %v (present %v), want null for xsi:nil", v, ok)
	}
	if p.SObject["Amount"] != "12500.0" || p.SObject["Name"] != "Bianchi Srl — 50 licences" {
		t.Errorf("values must be the strings sent: %v", p.SObject)
	}

	// Nested elements become a nested object; the session ID is never kept.
	nested := strings.Replace(string(fixture(t, "case-closed.xml")), "<sf:Origin>Phone</sf:Origin>",
		"<sf:Address><sf:city>Milano</sf:city><sf:street xsi:nil=\"true\"/></sf:Address>", 1)
	nested = strings.Replace(nested, `<SessionId xsi:nil="true"/>`, "<SessionId>00D!AQ0AQSecret</SessionId>", 1)
	req = post([]byte(nested))
	if res, err = r.Receive(context.Background(), &req); err != nil || len(res.Events) != 1 {
		t.Fatalf("receive nested: %v %v", res, err)
	}
	if p := string(res.Events[0].Payload); !strings.Contains(p, `"Address":{"city":"Milano","street":null}`) || strings.Contains(p, "Secret") {
		t.Errorf("payload %s: want the nested Address and no session ID", p)
	}
}

// A message of 100 notifications is one result: 100 events, one ack.
func TestBatchOf100(t *testing.T) {
	for name, newConn := range forms(t) {
		t.Run(name, func(t *testing.T) {
			r := configured(t, newConn(t), testConfig)
			req := post(notificationsXML(testOrg, 100))
			res, err := r.Receive(context.Background(), &req)
			if err != nil || res.Response.Status != 200 || !bytes.Equal(res.Response.Body, ackBody) {
				t.Fatalf("receive: %v %v", res, err)
			}
			keys := map[string]bool{}
			for _, ev := range res.Events {
				keys[ev.DedupKey] = true
			}
			if len(res.Events) != 100 || len(keys) != 100 {
				t.Errorf("%d events with %d distinct dedup keys, want 100 and 100", len(res.Events), len(keys))
			}
		})
	}
}

// TestFormsAgree runs the same requests through both forms and compares the
// results byte for byte.
func TestFormsAgree(t *testing.T) {
	var bodies [][]byte
	for _, b := range fixtures(t) {
		bodies = append(bodies, b)
	}
	// Malformed bodies too: under Wasm the host tokenizes (xmlscan), so its
	// errors must reach the guest as the in-process decoder's do.
	caseXML := string(fixture(t, "case-closed.xml"))
	bodies = append(bodies, notificationsXML(testOrg, 100), notificationsXML("00D000000000099EAA", 1), notificationsXML(testOrg, 101),
		[]byte("<soapenv:Envelope"), []byte(`{"json": true}`), nil, []byte(caseXML[:len(caseXML)/2]), []byte(caseXML+"trailing"),
		[]byte(strings.Replace(caseXML, "</sf:Origin>", "</sf:Orign>", 1)),
		[]byte(strings.Replace(caseXML, "Phone", "Ph&bogus;one", 1)),
		[]byte(strings.Replace(caseXML, "Phone", "<![CDATA[Ph<o>ne]]>", 1)),
		[]byte(strings.Replace(caseXML, `encoding="UTF-8"`, `encoding="ISO-8859-1"`, 1)),
		[]byte(strings.Replace(caseXML, "Phone", "Ph\xffone", 1)))
	results := map[string][]string{}
	for name, newConn := range forms(t) {
		r := configured(t, newConn(t), testConfig)
		for _, body := range bodies {
			req := post(body)
			res, err := r.Receive(context.Background(), &req)
			out, _ := json.Marshal(struct {
				Res *pluginsdk.ReceiveResult
				Err error
			}{res, err})
			results[name] = append(results[name], string(out))
		}
	}
	for i := range bodies {
		if results["native"][i] != results["wasm"][i] {
			t.Errorf("request %d:\nnative %s\nwasm   %s", i, results["native"][i], results["wasm"][i])
		}
	}
}
