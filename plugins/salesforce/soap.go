package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unsafe"

	"github.com/junctionhub/junction/pluginsdk/fields"
	"github.com/junctionhub/junction/pluginsdk/xmlscan"
)

// Namespaces of a Salesforce outbound message.
const (
	nsSOAP11   = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12   = "http://www.w3.org/2003/05/soap-envelope"
	nsOutbound = "http://soap.sforce.com/2005/09/outbound"
	nsXSI      = "http://www.w3.org/2001/XMLSchema-instance"
)

// Limits of one outbound message. Salesforce sends 1 to 100 notifications
// per message; more is not Salesforce, and refusing it bounds the work one
// request can cause.
const (
	maxNotifications = 100
	// maxFieldDepth bounds nested field elements (Salesforce sends flat
	// fields; nesting is accepted for forward compatibility, not without
	// end).
	maxFieldDepth = 4
)

// message is a parsed outbound message.
type message struct {
	OrganizationID string
	ActionID       string // "" when absent
	Notifications  []notification
}

// notification is one Notification element.
type notification struct {
	ID     string
	Object string // the sObject's type without its prefix: "Case"
	// Fields is the sObject's fields as a JSON object, in document order:
	// values are the strings sent, null for xsi:nil.
	Fields []byte
	// Time is the record's LastModifiedDate (else SystemModstamp) when the
	// outbound message includes one; zero otherwise.
	Time time.Time
}

// malformedError is a message that is not a well-formed Salesforce outbound
// message: the sender's fault, answered with a SOAP Client fault.
type malformedError struct{ msg string }

func (e *malformedError) Error() string { return e.msg }

// errTooManyNotifications refuses a message over Salesforce's own limit:
// the per-request event cap of this connector (413), fixed because a
// sender with more is not Salesforce.
var errTooManyNotifications = fmt.Errorf("more than %d notifications in one message, more than Salesforce ever sends; nothing was stored", maxNotifications)

func malformed(format string, args ...any) error {
	return &malformedError{msg: fmt.Sprintf(format, args...)}
}

// parseMessage parses a SOAP outbound message. Its tokens are encoding/xml's
// (strict), which neither fetches external entities nor expands entities a
// DOCTYPE declares (an undefined entity is a syntax error), so a hostile
// body can cost only time and memory proportional to its size. Under Wasm
// the host tokenizes the body natively (xmlscan), the guest only walks the
// tokens.
func parseMessage(body []byte) (*message, error) {
	p := &parser{r: xmlscan.Tokens(body)}
	env, err := p.root()
	if err != nil {
		return nil, err
	}
	if env.Name.Space != nsSOAP11 && env.Name.Space != nsSOAP12 || env.Name.Local != "Envelope" {
		return nil, malformed("the document is %s, not a SOAP Envelope", describe(env.Name))
	}
	var msg *message
	err = p.children(env, func(el xml.StartElement) error {
		if el.Name.Local != "Body" || el.Name.Space != env.Name.Space {
			return p.skip() // a SOAP Header, which Salesforce does not send
		}
		if msg != nil {
			return malformed("the Envelope has more than one Body")
		}
		var err error
		msg, err = p.body(el)
		return err
	})
	if err != nil {
		return nil, err
	}
	if msg == nil {
		return nil, malformed("the SOAP Envelope has no Body")
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return msg, nil
}

type parser struct {
	r *xmlscan.Reader
}

// token returns the next token, turning a syntax error into a malformed one.
func (p *parser) token() (xmlscan.Token, error) {
	tok, err := p.r.Next()
	if err == io.EOF {
		return tok, malformed("the XML ends before the Envelope is closed")
	}
	if err != nil {
		return tok, xmlError(err)
	}
	return tok, nil
}

// skip consumes the element whose start tag was just read.
func (p *parser) skip() error {
	if err := p.r.Skip(); err != nil {
		return xmlError(err)
	}
	return nil
}

func xmlError(err error) error {
	var se *xml.SyntaxError
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed("the XML ends before the Envelope is closed")
	}
	if errors.As(err, &se) {
		return malformed("XML syntax error on line %d: %s", se.Line, se.Msg)
	}
	return malformed("XML: %v", err)
}

// root skips the prolog (declaration, comments, DOCTYPE) and returns the
// document element.
func (p *parser) root() (xml.StartElement, error) {
	for {
		t, err := p.r.Next()
		if err == io.EOF {
			return xml.StartElement{}, malformed("the body holds no XML element")
		}
		if err != nil {
			return xml.StartElement{}, xmlError(err)
		}
		switch t.Kind {
		case xmlscan.KindStartElement:
			return t.Start(), nil
		case xmlscan.KindCharData:
			if len(bytes.TrimSpace(t.Data)) > 0 {
				return xml.StartElement{}, malformed("text before the document element: the body is not XML")
			}
		}
	}
}

// end checks that nothing but comments and white space follows the
// document element.
func (p *parser) end() error {
	for {
		t, err := p.r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return xmlError(err)
		}
		switch t.Kind {
		case xmlscan.KindStartElement:
			return malformed("a second document element %s after the Envelope", describe(t.Name))
		case xmlscan.KindCharData:
			if len(bytes.TrimSpace(t.Data)) > 0 {
				return malformed("text after the Envelope")
			}
		}
	}
}

// children calls fn for each child element of parent, until parent's end
// tag. fn must consume the child up to and including its end tag. Text
// between child elements must be white space.
func (p *parser) children(parent xml.StartElement, fn func(xml.StartElement) error) error {
	for {
		t, err := p.token()
		if err != nil {
			return err
		}
		switch t.Kind {
		case xmlscan.KindStartElement:
			if err := fn(t.Start()); err != nil {
				return err
			}
		case xmlscan.KindEndElement:
			return nil // the decoder has checked it matches parent
		case xmlscan.KindCharData:
			if len(bytes.TrimSpace(t.Data)) > 0 {
				return malformed("unexpected text %q in %s", clip(string(t.Data)), parent.Name.Local)
			}
		}
	}
}

// text reads the text content of el up to its end tag; a child element is
// an error.
func (p *parser) text(el xml.StartElement) (string, error) {
	var sb textBuilder
	for {
		t, err := p.token()
		if err != nil {
			return "", err
		}
		switch t.Kind {
		case xmlscan.KindCharData:
			sb.add(t.Data)
		case xmlscan.KindStartElement:
			return "", malformed("%s holds an element %s where text was expected", el.Name.Local, t.Name.Local)
		case xmlscan.KindEndElement:
			return sb.String(), nil
		}
	}
}

// textBuilder joins an element's character data. Text is nearly always one
// token, whose bytes the token stream keeps unmodified, so that one is
// aliased, not copied: an allocation per field is the largest cost left in
// a Go guest once the host has tokenized.
type textBuilder struct {
	one    []byte
	joined []byte
	n      int
}

func (b *textBuilder) add(data []byte) {
	switch b.n++; b.n {
	case 1:
		b.one = data
	case 2:
		b.joined = append(append([]byte(nil), b.one...), data...)
	default:
		b.joined = append(b.joined, data...)
	}
}

func (b *textBuilder) String() string {
	if b.n > 1 {
		return string(b.joined)
	}
	if len(b.one) == 0 {
		return ""
	}
	return unsafe.String(&b.one[0], len(b.one))
}

// blank reports whether the text so far is only white space.
func (b *textBuilder) blank() bool {
	if b.n > 1 {
		return len(bytes.TrimSpace(b.joined)) == 0
	}
	return len(bytes.TrimSpace(b.one)) == 0
}

func (p *parser) body(el xml.StartElement) (*message, error) {
	var msg *message
	err := p.children(el, func(c xml.StartElement) error {
		if c.Name.Local != "notifications" || c.Name.Space != nsOutbound {
			return malformed("the SOAP Body holds %s, not a Salesforce outbound message (notifications in %s)", describe(c.Name), nsOutbound)
		}
		if msg != nil {
			return malformed("the SOAP Body holds more than one notifications element")
		}
		var err error
		msg, err = p.notifications(c)
		return err
	})
	if err != nil {
		return nil, err
	}
	if msg == nil {
		return nil, malformed("the SOAP Body is empty: no notifications element")
	}
	return msg, nil
}

func (p *parser) notifications(el xml.StartElement) (*message, error) {
	msg := &message{}
	seenOrg := false
	err := p.children(el, func(c xml.StartElement) error {
		var err error
		switch c.Name.Local {
		case "OrganizationId":
			seenOrg = true
			msg.OrganizationID, err = p.text(c)
			msg.OrganizationID = strings.TrimSpace(msg.OrganizationID)
		case "ActionId":
			msg.ActionID, err = p.text(c)
			msg.ActionID = strings.TrimSpace(msg.ActionID)
		case "Notification":
			if len(msg.Notifications) == maxNotifications {
				return errTooManyNotifications
			}
			var n notification
			n, err = p.notification(c, len(msg.Notifications)+1)
			msg.Notifications = append(msg.Notifications, n)
		default:
			// SessionId (a live session token: deliberately not kept),
			// EnterpriseUrl, PartnerUrl and anything later API versions add.
			err = p.skip()
		}
		return err
	})
	switch {
	case err != nil:
		return nil, err
	case !seenOrg || msg.OrganizationID == "":
		return nil, malformed("the message has no OrganizationId")
	case len(msg.Notifications) == 0:
		return nil, malformed("the message has no Notification")
	}
	return msg, nil
}

// notification parses the i-th (from 1) Notification element.
func (p *parser) notification(el xml.StartElement, i int) (notification, error) {
	var n notification
	seenObject := false
	err := p.children(el, func(c xml.StartElement) error {
		var err error
		switch c.Name.Local {
		case "Id":
			n.ID, err = p.text(c)
			n.ID = strings.TrimSpace(n.ID)
		case "sObject":
			if seenObject {
				return malformed("notification %d has more than one sObject", i)
			}
			seenObject = true
			if n.Object, err = objectType(c, i); err != nil {
				return err
			}
			n.Fields, n.Time, err = p.sObject(c, i)
		default:
			err = p.skip()
		}
		return err
	})
	switch {
	case err != nil:
		return n, err
	case n.ID == "":
		return n, malformed("notification %d has no Id", i)
	case !seenObject:
		return n, malformed("notification %d (%s) has no sObject", i, n.ID)
	}
	return n, nil
}

// objectType reads the sObject's xsi:type ("sf:Case") without its prefix.
func objectType(el xml.StartElement, i int) (string, error) {
	for _, a := range el.Attr {
		if a.Name.Local == "type" && (a.Name.Space == nsXSI || a.Name.Space == "xsi") {
			t := strings.TrimSpace(a.Value)
			if k := strings.LastIndexByte(t, ':'); k >= 0 {
				t = t[k+1:]
			}
			if !isName(t) {
				return "", malformed("notification %d: sObject xsi:type %q is not an object name", i, clip(a.Value))
			}
			return t, nil
		}
	}
	return "", malformed("notification %d: sObject has no xsi:type naming its object (sf:Case, sf:Lead...)", i)
}

// isName reports whether s is an API name: letters, digits and underscores
// (custom objects end in __c), starting with a letter.
func isName(s string) bool {
	if s == "" || len(s) > 80 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// sObject reads the fields of an sObject into a JSON object.
func (p *parser) sObject(el xml.StartElement, i int) ([]byte, time.Time, error) {
	var modified, modstamp string
	obj, err := p.members(el, nil, 0, func(name, value string) {
		switch name {
		case "LastModifiedDate":
			modified = value
		case "SystemModstamp":
			modstamp = value
		}
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("notification %d: %w", i, err)
	}
	var at time.Time
	for _, v := range []string{modified, modstamp} {
		if v = strings.TrimSpace(v); v == "" {
			continue // absent: not worth time.Parse's error
		}
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			at = t
			break
		}
	}
	return obj, at, nil
}

// members reads the child elements of el as the members of a JSON object:
// text, null for xsi:nil, or a nested object. first, when not nil, is a
// child whose start tag has already been read. seen is told every text
// member.
func (p *parser) members(el xml.StartElement, first *xml.StartElement, depth int, seen func(name, value string)) ([]byte, error) {
	o := fields.NewObject(make([]byte, 0, 512))
	names := make([]string, 0, 16) // one allocation for a typical sObject, not five
	add := func(c xml.StartElement) error {
		name := c.Name.Local
		for _, n := range names {
			if n == name {
				return malformed("field %s appears twice in %s", name, el.Name.Local)
			}
		}
		names = append(names, name)
		if isNil(c) {
			o.Null(name)
			return p.skip()
		}
		raw, text, err := p.value(c, depth+1)
		switch {
		case err != nil:
			return err
		case raw != nil:
			o.Raw(name, raw)
		default:
			o.String(name, text)
			if seen != nil {
				seen(name, text)
			}
		}
		return nil
	}
	if first != nil {
		if err := add(*first); err != nil {
			return nil, err
		}
	}
	if err := p.children(el, add); err != nil {
		return nil, err
	}
	return o.Bytes(), nil
}

// value reads a field: its text, or, when it holds elements, a nested JSON
// object (raw non-nil).
func (p *parser) value(el xml.StartElement, depth int) (raw []byte, text string, err error) {
	var sb textBuilder
	for {
		t, err := p.token()
		if err != nil {
			return nil, "", err
		}
		switch t.Kind {
		case xmlscan.KindCharData:
			sb.add(t.Data)
		case xmlscan.KindEndElement:
			return nil, sb.String(), nil
		case xmlscan.KindStartElement:
			if !sb.blank() {
				return nil, "", malformed("field %s mixes text and elements", el.Name.Local)
			}
			if depth >= maxFieldDepth {
				return nil, "", malformed("field %s nests elements deeper than %d levels", el.Name.Local, maxFieldDepth)
			}
			start := t.Start()
			raw, err := p.members(el, &start, depth, nil)
			return raw, "", err
		}
	}
}

// isNil reports xsi:nil="true" (or "1").
func isNil(el xml.StartElement) bool {
	for _, a := range el.Attr {
		if a.Name.Local == "nil" && (a.Name.Space == nsXSI || a.Name.Space == "xsi") {
			v := strings.TrimSpace(a.Value)
			return v == "true" || v == "1"
		}
	}
	return false
}

func describe(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return "{" + n.Space + "}" + n.Local
}

// clip shortens s for an error message.
func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
