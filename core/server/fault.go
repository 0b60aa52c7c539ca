package server

import (
	"bytes"
	"encoding/xml"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/pluginsdk"
)

// pushError answers a refused push in the words its sender understands: the
// API's JSON error, or a SOAP 1.1 fault for a connector whose senders speak
// SOAP (Spec.Push.Faults), since Salesforce shows only a fault's
// faultstring in its delivery status. Client errors are soapenv:Client,
// 5xx soapenv:Server (the sender should retry).
func pushError(c *fiber.Ctx, spec pluginsdk.Spec, status int, code, msg string) error {
	if spec.Push.Faults != pluginsdk.FaultsSOAP {
		return apiError(c, status, code, msg, nil)
	}
	who := "Client"
	if status >= 500 {
		who = "Server"
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
 <soapenv:Body>
  <soapenv:Fault>
   <faultcode>soapenv:` + who + `</faultcode>
   <faultstring>`)
	_ = xml.EscapeText(&b, []byte(code+": "+msg)) // a bytes.Buffer never fails
	b.WriteString(`</faultstring>
  </soapenv:Fault>
 </soapenv:Body>
</soapenv:Envelope>
`)
	c.Set(fiber.HeaderContentType, "text/xml; charset=utf-8")
	return c.Status(status).Send(b.Bytes())
}
