package survey

import (
	"bufio"
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
	"time"

	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// hookURL is the URL Twilio calls, which testdata/inbound-sms.headers is
// signed for.
const hookURL = "https://junction.example.com/hooks/sms-replies"

// twilioSignature signs a request as Twilio's security documentation
// describes: the URL, then each POST parameter's name and value sorted by
// name, HMAC-SHA1 with the Auth Token, base64.
func twilioSignature(token, fullURL, body string) string {
	params, _ := url.ParseQuery(body)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	s := fullURL
	for _, k := range names {
		s += k + params.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// inbound reads the fixture reply and its headers.
func inbound(t *testing.T) (string, map[string][]string) {
	t.Helper()
	body, err := os.ReadFile("testdata/inbound-sms.form")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile("testdata/inbound-sms.headers")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "#") && strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	h, err := textproto.NewReader(bufio.NewReader(strings.NewReader(strings.Join(lines, "\r\n") + "\r\n\r\n"))).ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(body)), h
}

// receive posts a webhook to the twilio connection as the hub's /hooks
// route would.
func (h *hub) receive(body string, header map[string][]string) (*pluginsdk.ReceiveResult, error) {
	c, _ := h.conns.Get("sms-replies")
	return c.Connector.(pluginsdk.Receiver).Receive(context.Background(), &pluginsdk.HTTPRequest{
		Method: "POST", URL: hookURL, Path: "", Header: header, Body: []byte(body),
	})
}

func TestTwoWaySMS(t *testing.T) {
	h := newHub(t, hubOptions{})
	invite := `{"survey": "SV_demo", "directory": "POOL_demo", "method": "sms_two_way",
		"contact": {"phone": "+39 333 1234567", "firstName": "Giulia"},
		"message": {"body": "Ciao [[ .contact.firstName ]], da 0 a 10? Rispondi qui o apri [[ .link ]]"}}`
	sent := h.distributeOK(t, "run_1/invite", invite) // via omitted: sms-replies is the only SMS connection
	if sent.Via != "sms-replies" || sent.Status != "sent" {
		t.Fatalf("distribute output %+v", sent)
	}
	if m := h.api.Messages(); len(m) != 1 || m[0].To != "+393331234567" {
		t.Fatalf("messages %+v", m)
	}

	body, header := inbound(t)
	if got := twilioSignature(authToken, hookURL, body); got != header["X-Twilio-Signature"][0] {
		t.Fatalf("independent signature %s, fixture %s", got, header["X-Twilio-Signature"][0])
	}
	forged := map[string][]string{"Content-Type": header["Content-Type"], "X-Twilio-Signature": {twilioSignature("not-the-token", hookURL, body)}}
	if _, err := h.receive(body, forged); pluginsdk.AsError(err).Status != 403 {
		t.Fatalf("a reply signed with another token: %v, want 403", err)
	}
	res, err := h.receive(body, header)
	if err != nil {
		t.Fatalf("signed reply refused: %v", err)
	}
	if res.Response.Status != 200 || !strings.Contains(string(res.Response.Body), "<Response/>") {
		t.Errorf("response %d %s", res.Response.Status, res.Response.Body)
	}
	var p struct{ Type, From, Body, MessageSid string }
	if err := json.Unmarshal(res.Events[0].Payload, &p); err != nil {
		t.Fatal(err)
	}

	// What the bundled workflow's task receives: its fields rendered into
	// `with:`, and the stored event.
	ev := &event.Event{ID: "evt_0000000000000001", Connection: "sms-replies", Type: res.Events[0].Type,
		ReceivedAt: time.Date(2026, 3, 2, 10, 25, 0, 0, time.UTC), Payload: res.Events[0].Payload}
	with, _ := json.Marshal(map[string]string{"from": p.From, "body": p.Body, "messageSid": p.MessageSid})
	withEvent := func(c *task.Call) { c.Event = ev }
	raw, err := h.run(t, h.reply, "run_2/answer", string(with), withEvent)
	if err != nil {
		t.Fatalf("record_reply: %v", err)
	}
	var out ReplyOutput
	_ = json.Unmarshal(raw, &out)
	if out.DistributionID != sent.DistributionID || out.Status != "answered" || out.Answers != 1 || out.Duplicate {
		t.Errorf("record_reply output %+v", out)
	}
	d := h.distribution(t, sent.DistributionID)
	if d.Status != "answered" || len(d.Answers) != 1 || d.Answers[0].Body != "9" || !d.Answers[0].At.Equal(ev.ReceivedAt) {
		t.Errorf("distribution %+v", d)
	}

	// A retry of the same task records nothing more.
	raw, err = h.run(t, h.reply, "run_2/answer", string(with), withEvent)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(raw, &out)
	if !out.Duplicate || out.Answers != 1 || len(h.distribution(t, sent.DistributionID).Answers) != 1 {
		t.Errorf("retry recorded the reply again: %+v", out)
	}
}

func TestReplyWithoutTwoWayDistribution(t *testing.T) {
	h := newHub(t, hubOptions{})
	// A one-way SMS does not take replies.
	h.distributeOK(t, "run_1/invite", `{"survey": "SV_demo", "directory": "POOL_demo", "method": "sms",
		"contact": {"phone": "+393331234567"}, "message": {"body": "[[ .link ]]"}}`)
	for _, from := range []string{"+393331234567", "+15550001111"} {
		_, err := h.run(t, h.reply, "run_2/answer", `{"from": "`+from+`", "body": "9", "messageSid": "SM1"}`)
		want := "no two-way SMS survey was sent to " + from + `: reply SM1 ("9") matches no distribution`
		if msg := permanentError(t, err); msg != want {
			t.Errorf("error %q, want %q", msg, want)
		}
	}
	if _, err := h.run(t, h.reply, "run_3/answer", `{"body": "9"}`); !strings.Contains(permanentError(t, err), "with.from: required") {
		t.Errorf("missing from: %v", err)
	}
}
