package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

const (
	testOrg    = "00D000000000062EAA"
	testConfig = `{"organization_ids": ["00D000000000062EAA"]}`
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtures are the outbound messages under testdata (not the ack).
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.xml")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		if name := filepath.Base(p); name != "ack-response.xml" {
			out[name] = fixture(t, name)
		}
	}
	if len(out) < 3 {
		t.Fatalf("only %d fixtures under testdata", len(out))
	}
	return out
}

// post is an outbound message as Salesforce sends it.
func post(body []byte) pluginsdk.HTTPRequest {
	return pluginsdk.HTTPRequest{Method: "POST", URL: "https://junction.example.com/hooks/salesforce-cases", Body: body,
		Header: map[string][]string{"Content-Type": {"text/xml; charset=utf-8"}, "Soapaction": {`""`}, "User-Agent": {"Jakarta Commons-HttpClient/3.1"}}}
}

// configured returns c configured with config.
func configured(t testing.TB, c pluginsdk.Connector, config string) pluginsdk.Receiver {
	t.Helper()
	h := plugintest.NewHost(t)
	if err := c.Configure(context.Background(), h.Context(json.RawMessage(config), pluginsdk.Auth{})); err != nil {
		t.Fatalf("configure %s: %v", config, err)
	}
	return c.(pluginsdk.Receiver)
}

// canonicalXML renders a document as a list of tokens that ignores what
// does not change its meaning: the prolog, namespace prefixes and
// declarations, attribute order, and white space between elements.
func canonicalXML(b []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	var out []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var attrs []string
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Local == "xmlns" {
					continue
				}
				attrs = append(attrs, fmt.Sprintf("%s:%s=%q", a.Name.Space, a.Name.Local, a.Value))
			}
			sort.Strings(attrs)
			out = append(out, fmt.Sprintf("<{%s}%s %s>", t.Name.Space, t.Name.Local, strings.Join(attrs, " ")))
		case xml.EndElement:
			out = append(out, fmt.Sprintf("</{%s}%s>", t.Name.Space, t.Name.Local))
		case xml.CharData:
			if s := strings.TrimSpace(string(t)); s != "" {
				out = append(out, "text:"+s)
			}
		}
	}
}

// fault is a SOAP 1.1 fault as a sender reads it.
type fault struct {
	Code   string
	String string
}

func parseFault(t testing.TB, body []byte) fault {
	t.Helper()
	var env struct {
		XMLName xml.Name `xml:"http://schemas.xmlsoap.org/soap/envelope/ Envelope"`
		Body    struct {
			Fault *struct {
				Code   string `xml:"faultcode"`
				String string `xml:"faultstring"`
			} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Body.Fault == nil {
		t.Fatalf("not a SOAP fault (%v): %s", err, body)
	}
	return fault{Code: env.Body.Fault.Code, String: env.Body.Fault.String}
}

// notificationsXML builds an outbound message of n Case notifications.
func notificationsXML(org string, n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>` + org + `</OrganizationId>
   <ActionId>04k5e000000TtTrAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/60.0/00D000000000062</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/60.0/00D000000000062</PartnerUrl>
`)
	for i := range n {
		fmt.Fprintf(&b, `   <Notification>
    <Id>04l5e00000Cm%06dAAJ</Id>
    <sObject xsi:type="sf:Case" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>5005e00000M%06dAAF</sf:Id>
     <sf:CaseNumber>%08d</sf:CaseNumber>
     <sf:ContactEmail>customer%d@example.com</sf:ContactEmail>
     <sf:IsClosed>true</sf:IsClosed>
     <sf:Status>Closed</sf:Status>
     <sf:Subject>Question about invoice %d</sf:Subject>
     <sf:SuppliedName>Customer %d</sf:SuppliedName>
    </sObject>
   </Notification>
`, i, i, i, i, i, i)
	}
	b.WriteString("  </notifications>\n </soapenv:Body>\n</soapenv:Envelope>\n")
	return []byte(b.String())
}
