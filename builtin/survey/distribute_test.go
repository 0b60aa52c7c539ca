package survey

import (
	"context"
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
	"github.com/junctionhub/junction/builtin/twilio/twiliotest"
	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

const emailWith = `{
	"survey": "SV_demo", "directory": "POOL_demo", "method": "email",
	"contact": {"email": "ann.lee@example.com", "firstName": "Ann", "lastName": "Lee <3"},
	"embedded": {"Store": "Milano Centrale", "visits": 4},
	"message": {
		"subject": "How was [[ .contact.embedded.Store ]], [[ .contact.firstName ]]?",
		"body": "Hi [[ .contact.firstName ]] [[ .contact.lastName ]],\n\nrate your visit #[[ .contact.embedded.visits ]] to [[ .contact.embedded.Store ]] ([[ .survey.name ]]): [[ .link ]].\n[[ .contact.embedded.missing ]]",
		"unsubscribe": ["mailto:unsubscribe@example.com?subject=[[ .contact.id ]]", "https://example.com/unsubscribe/[[ .distribution.id ]]"]
	}}`

func TestDistributeByEmail(t *testing.T) {
	h := newHub(t, hubOptions{})
	out := h.distributeOK(t, "run_1/invite", emailWith)

	if out.Status != "sent" || out.Via != "mail" || out.Method != "email" || out.SurveyID != "SV_demo" || out.AlreadySent ||
		!strings.HasPrefix(out.DistributionID, "DIST_") || !strings.HasPrefix(out.ContactID, "CID_") {
		t.Errorf("output %+v", out)
	}
	if !strings.HasPrefix(out.Link, surveyLink+"?jt=") {
		t.Errorf("link %s, want %s?jt=...", out.Link, surveyLink)
	}
	msgs := h.mail.Messages()
	if len(msgs) != 1 {
		t.Fatalf("SMTP server got %d messages, want 1", len(msgs))
	}
	if m := msgs[0]; !m.TLS || m.User != "surveys" || strings.Join(m.To, ",") != "ann.lee@example.com" {
		t.Errorf("SMTP session tls=%v user=%q to=%v", m.TLS, m.User, m.To)
	}
	p, err := smtptest.Parse(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	wantText := "Hi Ann Lee <3,\n\nrate your visit #4 to Milano Centrale (Store visit): " + out.Link + ".\n"
	if got := strings.ReplaceAll(p.Text, "\r\n", "\n"); strings.TrimRight(got, "\n") != strings.TrimRight(wantText, "\n") {
		t.Errorf("text part\n%q\nwant\n%q", got, wantText)
	}
	escLink := html.EscapeString(out.Link)
	if !strings.Contains(p.HTML, `<a href="`+escLink+`">`+escLink+`</a>.`) || !strings.Contains(p.HTML, "Ann Lee &lt;3") {
		t.Errorf("HTML part does not have the clickable link and escaped name:\n%s", p.HTML)
	}
	checks := []struct{ what, got, want string }{
		{"Subject", p.Subject(), "How was Milano Centrale, Ann?"},
		{"From", p.Header.Get("From"), `"Example Surveys" <surveys@example.com>`},
		{"Reply-To", p.Header.Get("Reply-To"), "<help@example.com>"},
		{"List-Unsubscribe", p.Header.Get("List-Unsubscribe"),
			"<mailto:unsubscribe@example.com?subject=" + out.ContactID + ">, <https://example.com/unsubscribe/" + out.DistributionID + ">"},
		{"List-Unsubscribe-Post", p.Header.Get("List-Unsubscribe-Post"), "List-Unsubscribe=One-Click"},
		{"Message-ID", p.Header.Get("Message-Id"), out.ProviderMessageID},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}

	claims, err := h.links().VerifyLink(context.Background(), tokenOf(t, out.Link))
	if err != nil {
		t.Fatalf("VerifyLink: %v", err)
	}
	if claims.ContactID != out.ContactID || claims.DistributionID != out.DistributionID || claims.SurveyID != "SV_demo" ||
		claims.Embedded["Store"] != "Milano Centrale" || claims.Embedded["visits"] != json.Number("4") {
		t.Errorf("claims %+v", claims)
	}
	d := h.distribution(t, out.DistributionID)
	if d.Status != "sent" || d.ProviderMessageID != out.ProviderMessageID || d.Link != out.Link || d.RunID != "run_1" || d.Error != "" || d.SentAt.IsZero() {
		t.Errorf("distribution %+v", d)
	}
	if exp := claims.ExpiresAt().Sub(d.CreatedAt); exp < DefaultLinkTTL-2e9 || exp > DefaultLinkTTL {
		t.Errorf("link expires %s after the distribution, want %s", exp, DefaultLinkTTL)
	}
	c, err := h.dir.Get(context.Background(), out.ContactID)
	if err != nil || len(c.Distributions) != 1 || c.Embedded["Store"] != "Milano Centrale" {
		t.Errorf("contact %+v, %v", c, err)
	}
}

func TestDistributeOnceForOneIdempotencyKey(t *testing.T) {
	h := newHub(t, hubOptions{})
	first := h.distributeOK(t, "run_1/invite", emailWith)
	again := h.distributeOK(t, "run_1/invite", emailWith) // a retry, or the run resumed after a crash
	if n := len(h.mail.Messages()); n != 1 {
		t.Fatalf("%d emails for one idempotency key, want 1", n)
	}
	if !again.AlreadySent || again.DistributionID != first.DistributionID || again.Link != first.Link || again.ProviderMessageID != first.ProviderMessageID {
		t.Errorf("retry output %+v, first %+v", again, first)
	}
	other := h.distributeOK(t, "run_2/invite", emailWith)
	if n := len(h.mail.Messages()); n != 2 || other.DistributionID == first.DistributionID || other.ContactID != first.ContactID {
		t.Errorf("another run: %d emails, output %+v", n, other)
	}
}

func TestRetryAfterAProviderFailure(t *testing.T) {
	h := newHub(t, hubOptions{})
	h.api.FailTo("+393331234567", twiliotest.Error{Status: 503, Code: 20503, Message: "Service unavailable"})
	with := `{"survey": "SV_demo", "directory": "POOL_demo", "method": "sms", "via": "sms-replies",
		"contact": {"phone": "+39 333 123 4567", "firstName": "Giulia"},
		"message": {"body": "Ciao [[ .contact.firstName ]], com'è andata? [[ .link ]]"}}`
	_, err := h.run(t, h.distribute, "run_1/invite", with)
	pe := pluginsdk.AsError(err)
	if err == nil || !pe.Retryable || !strings.Contains(pe.Message, "twilio error 20503: Service unavailable") ||
		!strings.HasPrefix(pe.Message, "survey SV_demo: sms to +393331234567 (contact CID_") {
		t.Fatalf("error %v, want a retryable twilio 20503", err)
	}
	found, _ := h.dir.Find(context.Background(), "POOL_demo", directory.Query{Phone: "+393331234567"}, 0)
	dists, _ := h.dir.Distributions(context.Background(), found[0].ID)
	if len(dists) != 1 || dists[0].Status != "failed" || !strings.Contains(dists[0].Error, "20503") {
		t.Fatalf("distributions after the failure: %+v", dists)
	}

	h.api.Succeed("+393331234567")
	out := h.distributeOK(t, "run_1/invite", with)
	d := h.distribution(t, out.DistributionID)
	if out.DistributionID != dists[0].ID || d.Status != "sent" || d.Error != "" || !strings.HasPrefix(d.ProviderMessageID, "SM") {
		t.Errorf("after the retry: output %+v, distribution %+v", out, d)
	}
	msgs := h.api.Messages()
	if len(msgs) != 2 || msgs[1].SID != d.ProviderMessageID || msgs[1].Body != "Ciao Giulia, com'è andata? "+out.Link || msgs[1].From != "+15005550006" {
		t.Errorf("messages %+v", msgs)
	}
}

func TestDistributeErrors(t *testing.T) {
	wrongPassword := func(h *hub) []*config.Connection { return []*config.Connection{h.smtpConn("mail-old", "wrong")} }
	h := newHub(t, hubOptions{smtp: smtptest.Options{RejectRecipients: []string{"gone@example.com"}}, extra: wrongPassword})
	h.api.FailTo("+1555", twiliotest.Error{Status: 400, Code: 21211, Message: "The 'To' number +1555 is not a valid phone number."})
	unsub := true
	if _, _, err := h.dir.Upsert(context.Background(), "POOL_demo", directory.ContactInput{Email: "out@example.com", Unsubscribed: &unsub}); err != nil {
		t.Fatal(err)
	}
	email := func(contact, via, body string) string {
		return `{"survey": "SV_demo", "directory": "POOL_demo", "method": "email", "via": "` + via + `", "contact": ` + contact +
			`, "message": {"subject": "Hi", "body": "` + body + `"}}`
	}
	sms := func(method, contact string) string {
		return `{"survey": "SV_demo", "directory": "POOL_demo", "method": "` + method + `", "via": "sms-replies", "contact": ` + contact +
			`, "message": {"body": "[[ .link ]]"}}`
	}
	tests := []struct {
		name, with string
		want       string // regexp of the whole message
		recorded   bool   // the distribution exists and is failed
	}{
		{"inactive survey", strings.Replace(email(`{"email": "a@example.com"}`, "mail", "[[ .link ]]"), "SV_demo", "SV_old", 1),
			`^survey SV_old is inactive: activate it before distributing$`, false},
		{"unknown survey", strings.Replace(email(`{"email": "a@example.com"}`, "mail", "[[ .link ]]"), "SV_demo", "SV_nope", 1),
			`^survey SV_nope is not configured \(configured: SV_demo, SV_old\)$`, false},
		{"contact without email", email(`{"phone": "+393330000001"}`, "mail", "[[ .link ]]"),
			`^contact CID_\w+ has no email address: cannot send survey SV_demo by email$`, false},
		{"contact without phone", sms("sms_two_way", `{"email": "b@example.com"}`),
			`^contact CID_\w+ has no phone number: cannot send survey SV_demo by sms_two_way$`, false},
		{"unsubscribed contact", email(`{"email": "out@example.com"}`, "mail", "[[ .link ]]"),
			`^contact CID_\w+ has unsubscribed: not sending survey SV_demo$`, false},
		{"SMTP auth failure", email(`{"email": "c@example.com"}`, "mail-old", "[[ .link ]]"),
			`^survey SV_demo: email to c@example.com \(contact CID_\w+\) failed: connection mail-old: smtp auth failed for user surveys: 535 5\.7\.8 Authentication failed$`, true},
		{"rejected recipient", email(`{"email": "gone@example.com"}`, "mail", "[[ .link ]]"),
			`failed: connection mail: smtp server rejected recipient gone@example.com: 550 5\.1\.1 Mailbox gone@example.com does not exist$`, true},
		{"invalid phone", sms("sms", `{"phone": "+1555"}`),
			`^survey SV_demo: sms to \+1555 \(contact CID_\w+\) failed: connection sms-replies: twilio error 21211: The 'To' number \+1555 is not a valid phone number\. \(https://www\.twilio\.com/docs/errors/21211\)$`, true},
		{"via cannot send email", email(`{"email": "d@example.com"}`, "sms-replies", "[[ .link ]]"),
			`^with\.via: connection sms-replies \(twilio\) cannot send email: it has no send_email action$`, false},
		{"via unknown", email(`{"email": "d@example.com"}`, "post", "[[ .link ]]"),
			`^with\.via: no connection "post" \(connections: mail, mail-old, sms-replies\)$`, false},
		{"via ambiguous", email(`{"email": "d@example.com"}`, "", "[[ .link ]]"),
			`^with\.via: several connections can send email \(mail, mail-old\); name one in via$`, false},
		{"no link in the body", email(`{"email": "e@example.com"}`, "mail", "Hello"),
			`^survey SV_demo to CID_\w+: message\.body does not include the personal link: add \[\[ \.link \]\] where it goes$`, true},
		{"workflow placeholder left", email(`{"email": "e@example.com"}`, "mail", "Hi {{ .contact.firstName }} [[ .link ]]"),
			`^message\.body contains "{{ \.contact\.firstName }} \[\[ \.link \]\]": placeholders filled when the message is sent are written \[\[ \.contact\.firstName \]\]; {{ }} is filled when the workflow starts$`, false},
		{"misspelt contact field", email(`{"email": "e@example.com"}`, "mail", "Hi [[ .contact.fristName ]] [[ .link ]]"),
			`^message\.body: \.contact\.fristName: a contact has no "fristName"; it has id, firstName, lastName, email, phone, extRef, language \(and embedded\.<key>\)$`, false},
		{"bad method", strings.Replace(email(`{"email": "e@example.com"}`, "mail", "[[ .link ]]"), `"email", "via"`, `"fax", "via"`, 1),
			`^with\.method: "fax"; want one of email, sms, sms_two_way$`, false},
		{"no dedup field", email(`{"firstName": "Ann"}`, "mail", "[[ .link ]]"),
			`^survey SV_demo: contact in POOL_demo: `, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.mail.Messages())
			key := "run_err" + string(rune('a'+i)) + "/invite"
			_, err := h.run(t, h.distribute, key, tt.with)
			msg := permanentError(t, err)
			if !regexp.MustCompile(tt.want).MatchString(msg) {
				t.Errorf("error\n%s\nwant match\n%s", msg, tt.want)
			}
			if n := len(h.mail.Messages()); n != before {
				t.Errorf("%d emails were sent", n-before)
			}
			id := regexp.MustCompile(`CID_\w+`).FindString(msg)
			if !tt.recorded || id == "" {
				return
			}
			dists, err := h.dir.Distributions(context.Background(), id)
			if err != nil || len(dists) != 1 || dists[0].Status != "failed" || dists[0].Error == "" || !strings.Contains(msg, dists[0].Error) {
				t.Errorf("distributions of %s: %+v, %v", id, dists, err)
			}
		})
	}
}

// TestMissingServiceFailsAtStart: a hub that does not provide a service a
// survey task needs cannot build that task (so the hub does not start),
// and the error names the task and the service.
func TestMissingServiceFailsAtStart(t *testing.T) {
	tests := []struct {
		id   string
		drop func(*task.Env)
		want string
	}{
		{"survey.distribute", func(e *task.Env) { e.Connections = nil },
			"task survey.distribute needs task.Env.Connections (the hub's connections), which the hub did not provide"},
		{"survey.distribute", func(e *task.Env) { e.Secrets, e.Contacts = nil, nil },
			"task survey.distribute needs task.Env.Contacts (the contact directory) and task.Env.Secrets (the store's secrets), which the hub did not provide"},
		{"survey.distribute", func(e *task.Env) { e.Distributions = nil },
			"task survey.distribute needs task.Env.Distributions (the survey distributions of the contact directory), which the hub did not provide"},
		{"survey.record_reply", func(e *task.Env) { e.Events = nil },
			"task survey.record_reply needs task.Env.Events (the store's event log), which the hub did not provide"},
		{"survey.record_reply", func(e *task.Env) { e.Distributions = nil },
			"task survey.record_reply needs task.Env.Distributions (the survey distributions of the contact directory), which the hub did not provide"},
	}
	h := newHub(t, hubOptions{})
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			env := *h.env
			tt.drop(&env)
			d, _ := task.Lookup(tt.id)
			ex, err := d.New(&env)
			if err == nil || ex != nil || err.Error() != tt.want {
				t.Errorf("New = %v, %v\nwant the error %q", ex, err, tt.want)
			}
		})
	}
	// What the survey tasks do not need may be missing.
	env := *h.env
	env.Surveys, env.Location, env.Logger = nil, nil, nil
	build(t, &env, "survey.distribute")
	build(t, &env, "survey.record_reply")
}
