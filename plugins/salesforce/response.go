package main

import (
	"bytes"
	"encoding/xml"
)

// xmlHeader is shared by every response and never modified.
var xmlHeader = map[string][]string{"Content-Type": {"text/xml; charset=utf-8"}}

// ackBody acknowledges every notification of a message: Salesforce then
// removes the message from its queue. It is sent only after the host has
// stored the message's events.
var ackBody = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
   <Ack>true</Ack>
  </notificationsResponse>
 </soapenv:Body>
</soapenv:Envelope>
`)

// faultBody is a SOAP 1.1 fault; code is Client (the message is at fault)
// or Server. Salesforce shows the faultstring in its outbound message queue
// (Setup → Outbound Messages → View Message Delivery Status).
func faultBody(code, reason string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>soapenv:`)
	b.WriteString(code)
	b.WriteString("</faultcode>\n   <faultstring>")
	_ = xml.EscapeText(&b, []byte(reason)) // a bytes.Buffer never fails
	b.WriteString(`</faultstring>
  </soapenv:Fault>
 </soapenv:Body>
</soapenv:Envelope>
`)
	return b.Bytes()
}
