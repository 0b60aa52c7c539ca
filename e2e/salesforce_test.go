package e2e

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
	"github.com/junctionhub/junction/builtin/twilio/twiliotest"
)

const (
	sfOrg         = "00D000000000062EAA"
	sfToken       = "e2e-salesforce-path-token-0123456789"
	sfHook        = "/hooks/salesforce-cases/" + sfToken
	sfTwilioSID   = "AC0123456789abcdef0123456789abcdef"
	sfTwilioToken = "e2e-twilio-auth-token"
)

// sfEnv is a hub running configs/salesforce.yaml (and testdata's sms.yaml)
// against a real SMTP server and a loopback Twilio-compatible API.
type sfEnv struct {
	h      *hubProc
	mail   *smtptest.Server
	sms    *twiliotest.Server
	data   string
	config string
}

// startSalesforce starts the servers and a hub; edit rewrites
// configs/salesforce.yaml before the hub reads it.
func startSalesforce(t *testing.T, edit func(string) string) *sfEnv {
	t.Helper()
	e := &sfEnv{
		mail: smtptest.NewServer(t, smtptest.Options{Username: "care", Password: "smtp-secret"}),
		sms:  twiliotest.NewServer(t, sfTwilioSID, sfTwilioToken),
		data: t.TempDir(), config: t.TempDir(),
	}
	installPlugin(t, e.data, "salesforce")
	e.restart(t, edit)
	return e
}

// restart (re)starts the hub on the same data, with configs/salesforce.yaml
// rewritten by edit.
func (e *sfEnv) restart(t *testing.T, edit func(string) string) {
	t.Helper()
	if e.h != nil {
		e.h.Stop()
	}
	shipped, err := os.ReadFile(filepath.Join("..", "configs", "salesforce.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(shipped)
	if edit != nil {
		cfg = edit(cfg)
	}
	writeFile(t, filepath.Join(e.config, "salesforce.yaml"), cfg)
	sms, err := os.ReadFile(filepath.Join("testdata", "salesforce", "sms.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(e.config, "sms.yaml"), string(sms))
	e.h = startHub(t, e.config, e.data, map[string]string{
		"SALESFORCE_ORG_IDS": sfOrg, "SF_PATH_TOKEN": sfToken,
		"SMTP_HOST": e.mail.Host, "SMTP_PORT": strconv.Itoa(e.mail.Port), "SMTP_CA_CERT": e.mail.CAPEM,
		"SMTP_USERNAME": "care", "SMTP_PASSWORD": "smtp-secret",
		"TWILIO_ACCOUNT_SID": sfTwilioSID, "TWILIO_AUTH_TOKEN": sfTwilioToken, "TWILIO_BASE_URL": e.sms.URL,
	}, "")
}

func sfFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "salesforce", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends an outbound message the way Salesforce does.
func (e *sfEnv) post(t *testing.T, path string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.h.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `""`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// ack posts body and requires the ack of the shared ack-response.xml.
func (e *sfEnv) ack(t *testing.T, body []byte) {
	t.Helper()
	want, err := sfCanonical(sfFixture(t, "ack-response.xml"))
	if err != nil {
		t.Fatal(err)
	}
	code, got := e.post(t, sfHook, body)
	canon, err := sfCanonical(got)
	if code != 200 || err != nil || !slices.Equal(canon, want) {
		t.Fatalf("HTTP %d %s (%v): want the notificationsResponse of ack-response.xml", code, got, err)
	}
}

// sfCanonical lists a document's elements and text, ignoring the prolog,
// namespace prefixes and white space between elements.
func sfCanonical(b []byte) ([]string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
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
			out = append(out, "<{"+t.Name.Space+"}"+t.Name.Local+">")
		case xml.EndElement:
			out = append(out, "</{"+t.Name.Space+"}"+t.Name.Local+">")
		case xml.CharData:
			if s := strings.TrimSpace(string(t)); s != "" {
				out = append(out, s)
			}
		}
	}
}

func sfFaultString(t *testing.T, body []byte) string {
	t.Helper()
	var env struct {
		Fault struct {
			Code   string `xml:"faultcode"`
			String string `xml:"faultstring"`
		} `xml:"Body>Fault"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Fault.Code == "" {
		t.Fatalf("not a SOAP fault (%v): %s", err, body)
	}
	return env.Fault.String
}

// records are the events stored for the Salesforce connection, newest first.
func (e *sfEnv) records(t *testing.T) []map[string]any {
	t.Helper()
	var out struct {
		Records []struct {
			Record map[string]any `json:"record"`
		} `json:"records"`
	}
	if code := e.h.api("GET", "/connections/salesforce-cases/records?limit=200", nil, &out); code != 200 {
		t.Fatalf("records: HTTP %d", code)
	}
	recs := make([]map[string]any, len(out.Records))
	for i, r := range out.Records {
		recs[i] = r.Record
	}
	return recs
}

type sfContact struct {
	ID           string         `json:"id"`
	Email        string         `json:"email"`
	FirstName    string         `json:"firstName"`
	LastName     string         `json:"lastName"`
	Phone        string         `json:"phone"`
	ExtRef       string         `json:"extRef"`
	Embedded     map[string]any `json:"embedded"`
	Transactions []struct {
		Date string         `json:"date"`
		Data map[string]any `json:"data"`
	} `json:"transactions"`
	Distributions []struct {
		Method  string `json:"method"`
		Status  string `json:"status"`
		Link    string `json:"link"`
		Answers []struct {
			Body string `json:"body"`
		} `json:"answers"`
	} `json:"distributions"`
}

// contact finds the one contact with the email and returns its details.
func (e *sfEnv) contact(t *testing.T, email string) sfContact {
	t.Helper()
	var found struct{ Contacts []sfContact }
	if code := e.h.api("GET", "/directories/POOL_salesforce/contacts?email="+url.QueryEscape(email), nil, &found); code != 200 || len(found.Contacts) != 1 {
		t.Fatalf("contacts with email %s: HTTP %d, %d found; want 1", email, code, len(found.Contacts))
	}
	var c sfContact
	if code := e.h.api("GET", "/contacts/"+found.Contacts[0].ID, nil, &c); code != 200 {
		t.Fatalf("contact %s: HTTP %d", found.Contacts[0].ID, code)
	}
	return c
}

// mailTo returns the messages sent to addr, parsed.
func (e *sfEnv) mailTo(t *testing.T, addr string) []*smtptest.Parsed {
	t.Helper()
	var out []*smtptest.Parsed
	for _, m := range e.mail.Messages() {
		if slices.Contains(m.To, addr) {
			p, err := smtptest.Parse(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

func (e *sfEnv) waitRuns(t *testing.T, workflow, status string, n int) []runView {
	t.Helper()
	var runs []runView
	waitFor(t, 60*time.Second, fmt.Sprintf("%d %s runs of %s", n, status, workflow), func() bool {
		runs = allRuns(e.h, url.Values{"workflow": {workflow}, "status": {status}})
		return len(runs) >= n
	})
	return runs
}

// twilioSignature is X-Twilio-Signature as Twilio documents it: the full
// URL, then each POST parameter's name and value sorted by name, signed
// with HMAC-SHA1 under the Auth Token, base64-encoded.
func twilioSignature(token, fullURL string, form url.Values) string {
	var b strings.Builder
	b.WriteString(fullURL)
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range form[k] {
			b.WriteString(k + v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// leadsXML is one outbound message of n Lead notifications.
func leadsXML(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>` +
		`<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>` + sfOrg + `</OrganizationId><ActionId>04k5e000000TtTsAAK</ActionId><SessionId xsi:nil="true"/>`)
	for i := range n {
		fmt.Fprintf(&b, `<Notification><Id>04l5e0000B%08dAAJ</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">`+
			`<sf:Id>00Q5e0000B%08dAAA</sf:Id><sf:Company>Batch Co %d</sf:Company><sf:Email>lead%d@batch.example.com</sf:Email>`+
			`<sf:FirstName>Lead</sf:FirstName><sf:LastName>Number%d</sf:LastName></sObject></Notification>`, i, i, i, i, i)
	}
	b.WriteString(`</notifications></soapenv:Body></soapenv:Envelope>`)
	return []byte(b.String())
}

// TestSalesforceEndToEnd: Salesforce outbound messages through the Wasm
// plugin and configs/salesforce.yaml become contacts, a transaction, an
// email survey invitation and a two-way SMS invitation whose signed reply
// is recorded as the answer; refusals are precise and store nothing;
// duplicates are dropped; a batch of 100 is acknowledged once, stored.
func TestSalesforceEndToEnd(t *testing.T) {
	e := startSalesforce(t, nil)

	// Refusals first, so that "nothing stored" is easy to see.
	code, body := e.post(t, "/hooks/salesforce-case", sfFixture(t, "case-closed.xml")) // a typo in the Flow's URL
	if code != 404 || !strings.Contains(string(body), "unknown_connection") || strings.Contains(string(body), "salesforce-cases") || strings.Contains(string(body), "salesforce-sms") {
		t.Errorf("wrong connection URL: HTTP %d %s; want 404 naming no configured connection", code, body)
	}
	foreign := bytes.ReplaceAll(sfFixture(t, "case-closed.xml"), []byte(sfOrg), []byte("00D5e000000AbCdEAK"))
	if code, body = e.post(t, sfHook, foreign); code != 401 || !strings.Contains(sfFaultString(t, body), "organization 00D5e000000AbCdEAK is not allowed") {
		t.Errorf("foreign organization: HTTP %d %s", code, body)
	}
	whole := sfFixture(t, "case-closed.xml")
	if code, body = e.post(t, sfHook, whole[:len(whole)-40]); code != 500 || !strings.Contains(sfFaultString(t, body), "malformed outbound message") {
		t.Errorf("truncated SOAP: HTTP %d %s", code, body)
	}
	if recs := e.records(t); len(recs) != 0 {
		t.Fatalf("refused messages stored %d events", len(recs))
	}

	// Every fixture is acknowledged; the case twice, as Salesforce resends.
	for _, f := range []string{"case-closed.xml", "case-closed.xml", "lead-two-notifications.xml", "opportunity-won.xml", "case-closed-phone.xml"} {
		e.ack(t, sfFixture(t, f))
	}
	e.waitRuns(t, "salesforce-case-survey", "completed", 2)
	e.waitRuns(t, "salesforce-lead-contact", "completed", 2)
	e.waitRuns(t, "salesforce-opportunity-won", "completed", 1)
	e.waitRuns(t, "salesforce-case-sms", "completed", 1)
	if recs := e.records(t); len(recs) != 5 {
		t.Errorf("%d events stored, want 5: one per notification, the resent one dropped", len(recs))
	}
	if runs := allRuns(e.h, url.Values{"workflow": {"salesforce-case-survey"}}); len(runs) != 2 {
		t.Errorf("%d runs of salesforce-case-survey, want 2 (the resent case makes none)", len(runs))
	}

	// The contacts, with the mapped fields.
	marco := e.contact(t, "marco.bianchi@example.com")
	if marco.ExtRef != "0035e00000XyZ12AAB" || marco.Embedded["SuppliedName"] != "Marco Bianchi" || marco.Embedded["LastCase"] != "00001026" ||
		marco.Embedded["LastCaseSubject"] != "Billing address wrong & invoice resent" {
		t.Errorf("Marco: %+v", marco)
	}
	if len(marco.Transactions) != 1 {
		t.Fatalf("Marco has %d transactions, want the won opportunity", len(marco.Transactions))
	}
	tx := marco.Transactions[0]
	if tx.Data["Opportunity"] != "0065e00000GhIjKAAV" || tx.Data["Amount"] != 12500.0 || tx.Data["Currency"] != "EUR" ||
		tx.Data["Stage"] != "Closed Won" || tx.Data["OpportunityName"] != "Bianchi Srl — 50 licences" || !strings.HasPrefix(tx.Date, "2026-03-02") {
		t.Errorf("opportunity transaction %+v", tx)
	}
	anna := e.contact(t, "anna.rossi@example.com")
	if anna.FirstName != "Anna" || anna.LastName != "Rossi" || anna.Embedded["Company"] != "Rossi Arredamenti" || anna.Embedded["LeadSource"] != "Web" {
		t.Errorf("Anna: %+v", anna)
	}
	if erik := e.contact(t, "erik.lindqvist@example.se"); erik.FirstName != "Erik" || erik.LastName != "Lindqvist" || erik.Embedded["Company"] != "Nordic Ljus AB" {
		t.Errorf("Erik: %+v", erik)
	}

	// One email invitation to Marco (not two), with his personal link.
	if len(marco.Distributions) != 1 || marco.Distributions[0].Status != "sent" || marco.Distributions[0].Method != "email" {
		t.Fatalf("Marco's distributions: %+v; want one sent by email", marco.Distributions)
	}
	link := marco.Distributions[0].Link
	mails := e.mailTo(t, "marco.bianchi@example.com")
	if len(mails) != 1 {
		t.Fatalf("%d emails to Marco, want 1", len(mails))
	}
	if !strings.HasPrefix(link, "https://surveys.example.com/jfe/form/SV_salesforce_case?") || !strings.Contains(mails[0].Text, link) ||
		mails[0].Subject() != "How did we do with case 00001026?" || !strings.Contains(mails[0].Text, "Hello Marco Bianchi,") {
		t.Errorf("email %q:\n%s\nwant the personal link %s", mails[0].Subject(), mails[0].Text, link)
	}

	// Giulia: an SMS to her phone, and her signed reply is the answer.
	giulia := e.contact(t, "giulia.verdi@example.com")
	msgs := e.sms.Messages()
	if len(msgs) != 1 || msgs[0].To != "+393331234567" || giulia.Phone != "+39 333 123 4567" {
		t.Fatalf("SMS sent %+v; Giulia %+v", msgs, giulia)
	}
	var smsLink string
	for _, d := range giulia.Distributions {
		if d.Method == "sms_two_way" {
			smsLink = d.Link
		}
	}
	if smsLink == "" || !strings.Contains(msgs[0].Body, smsLink) {
		t.Errorf("SMS body %q, distributions %+v: want the personal link", msgs[0].Body, giulia.Distributions)
	}
	form := url.Values{"MessageSid": {"SM9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"}, "AccountSid": {sfTwilioSID},
		"From": {"+393331234567"}, "To": {"+15005550006"}, "Body": {"9"}, "NumMedia": {"0"}}
	hook := e.h.URL + "/hooks/salesforce-sms"
	req, _ := http.NewRequest("POST", hook, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twilioSignature(sfTwilioToken, hook, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("signed SMS reply: HTTP %d", resp.StatusCode)
	}
	e.waitRuns(t, "salesforce-sms-replies", "completed", 1)
	answered := false
	for _, d := range e.contact(t, "giulia.verdi@example.com").Distributions {
		answered = answered || (d.Method == "sms_two_way" && d.Status == "answered" && len(d.Answers) == 1 && d.Answers[0].Body == "9")
	}
	if !answered {
		t.Errorf("the reply was not recorded as the SMS distribution's answer: %+v", e.contact(t, "giulia.verdi@example.com").Distributions)
	}

	// 100 notifications in one message: one ack, sent after all 100 are stored.
	before := len(e.records(t))
	e.ack(t, leadsXML(100))
	if got := len(e.records(t)) - before; got != 100 {
		t.Fatalf("right after the ack, %d of the 100 events are stored", got)
	}
	e.waitRuns(t, "salesforce-lead-contact", "completed", 102)
	if c := e.contact(t, "lead99@batch.example.com"); c.LastName != "Number99" || c.Embedded["Company"] != "Batch Co 99" {
		t.Errorf("lead 99: %+v", c)
	}

	// A case without an email is stored and acknowledged; its run fails
	// saying why, and the case stays in the run's input.
	e.ack(t, sfFixture(t, "case-closed-no-email.xml"))
	failed := e.waitRuns(t, "salesforce-case-survey", "failed", 1)
	if !strings.Contains(failed[0].Error, "contact email is required but missing or empty (require: email)") || !strings.Contains(string(failed[0].Input), "04l5e00000CmnS9AAJ") {
		t.Errorf("run without an email: error %q, input %s", failed[0].Error, failed[0].Input)
	}
}

// TestSalesforceInactiveSurvey: while the survey is inactive a closed case
// still makes its contact, and the invitation fails saying so; once the
// survey is active again, replaying the run sends it. Likewise a message
// refused for its organization is accepted when Salesforce resends it after
// the organization is allowed: nothing is lost.
func TestSalesforceInactiveSurvey(t *testing.T) {
	inactive := func(cfg string) string {
		return strings.Replace(cfg, "  status: active ", "  status: inactive ", 1)
	}
	e := startSalesforce(t, inactive)
	e.ack(t, sfFixture(t, "case-closed.xml"))
	failed := e.waitRuns(t, "salesforce-case-survey", "failed", 1)
	if !strings.Contains(failed[0].Error, "survey SV_salesforce_case is inactive") {
		t.Fatalf("run error %q, want the inactive survey named", failed[0].Error)
	}
	if c := e.contact(t, "marco.bianchi@example.com"); c.ExtRef != "0035e00000XyZ12AAB" {
		t.Errorf("contact %+v", c)
	}
	if n := len(e.mailTo(t, "marco.bianchi@example.com")); n != 0 {
		t.Fatalf("%d emails sent for an inactive survey", n)
	}

	const other = "00D5e000000AbCdEAK"
	leads := bytes.ReplaceAll(sfFixture(t, "lead-two-notifications.xml"), []byte(sfOrg), []byte(other))
	if code, body := e.post(t, sfHook, leads); code != 401 || !strings.Contains(sfFaultString(t, body), other) {
		t.Fatalf("leads of another organization: HTTP %d %s", code, body)
	}

	e.restart(t, func(cfg string) string {
		return strings.Replace(cfg, `organization_ids: ["${SALESFORCE_ORG_IDS:-00D000000000062EAA}"]`, `organization_ids: ["${SALESFORCE_ORG_IDS}", "`+other+`"]`, 1)
	})
	e.ack(t, leads) // Salesforce's retry
	e.waitRuns(t, "salesforce-lead-contact", "completed", 2)
	if c := e.contact(t, "erik.lindqvist@example.se"); c.LastName != "Lindqvist" {
		t.Errorf("Erik: %+v", c)
	}
	if code := e.h.api("POST", "/runs/"+failed[0].ID+"/replay", nil, nil); code != 202 {
		t.Fatalf("replay: HTTP %d", code)
	}
	e.waitRuns(t, "salesforce-case-survey", "completed", 1)
	if mails := e.mailTo(t, "marco.bianchi@example.com"); len(mails) != 1 || !strings.Contains(mails[0].Text, "https://surveys.example.com/jfe/form/SV_salesforce_case?") {
		t.Fatalf("%d emails after the replay, want 1 with the link", len(mails))
	}
}
