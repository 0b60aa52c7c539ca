package e2e

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
)

const aepSegment = "046456e3b-18e1-48a6-9bda-d68547861283"

// TestAEPFixtures posts every AEP fixture the way AEP's streaming HTTP
// destination does, to a hub serving configs/aep.yaml (with segment.yaml,
// which defines POOL_demo): the realized profile becomes a contact and is
// emailed the survey, the exited one marks that contact, the doc example's
// placeholder identity fails its run saying why, a redelivery starts
// nothing, and wrong credentials are refused.
func TestAEPFixtures(t *testing.T) {
	mail := smtptest.NewServer(t, smtptest.Options{Username: "surveys", Password: "smtp-pass"})
	h := startSegmentHub(t, newSink(t), []string{"aep.yaml"}, []string{"aep"}, map[string]string{
		"AEP_USERNAME": "aep-user", "AEP_API_TOKEN": "aep-token",
		"SMTP_HOST": mail.Host, "SMTP_PORT": strconv.Itoa(mail.Port), "SMTP_CA_CERT": mail.CAPEM,
		"SMTP_USERNAME": "surveys", "SMTP_PASSWORD": "smtp-pass",
	})
	post := func(name, user, token string) (int, string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", "aep", name))
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", h.URL+"/hooks/aep-automations", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+token)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	accept := func(name string) {
		t.Helper()
		if code, resp := post(name, "aep-user", "aep-token"); code != 200 || resp != `{"success":true}` {
			t.Fatalf("%s: %d %s", name, code, resp)
		}
	}
	if code, resp := post("realized.json", "aep-user", "wrong-token"); code != 401 || !strings.Contains(resp, "basic credentials") {
		t.Fatalf("wrong token: %d %s", code, resp)
	}

	accept("realized.json")
	waitRuns(t, h, "aep-audience-realized", 1)
	cs := contactsByEmail(t, h, "dave.jensen@example.com")
	if len(cs) != 1 {
		t.Fatalf("%d contacts, want 1", len(cs))
	}
	c := cs[0]
	if c.FirstName != "Dave" || c.LastName != "Jensen" || c.Phone != "0123456789" || c.ExtRef != "45022119437451339290185428917617352718" ||
		c.Embedded["aepAudience"] != aepSegment || c.Embedded["aepAudienceStatus"] != "realized" ||
		c.Embedded["aepQualifiedAt"] != "2023-09-05T10:43:55.602687Z" {
		t.Errorf("contact %+v", c)
	}
	if len(c.Distributions) != 1 || c.Distributions[0].SurveyID != "SV_aep_audience" || c.Distributions[0].Method != "email" || c.Distributions[0].Status != "sent" {
		t.Fatalf("distributions %+v, want one sent email of SV_aep_audience", c.Distributions)
	}
	msgs := mail.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "dave.jensen@example.com" {
		t.Fatalf("mail %+v", msgs)
	}
	parsed, err := smtptest.Parse(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	link := c.Distributions[0].Link
	if !strings.HasPrefix(link, "https://surveys.example.com/jfe/form/SV_aep_audience?jt=") || !strings.Contains(parsed.Text, link) ||
		!strings.Contains(parsed.Text, "Hello Dave,") || parsed.Subject() != "Dave, two minutes for us?" {
		t.Errorf("mail subject %q text %q, link %s", parsed.Subject(), parsed.Text, link)
	}

	// The same profile again (AEP retrying) starts nothing; the exit of the
	// audience updates the same contact.
	accept("realized.json")
	accept("exited.json")
	waitRuns(t, h, "aep-audience-exited", 1)
	cs = contactsByEmail(t, h, "dave.jensen@example.com")
	if len(cs) != 1 || cs[0].ID != c.ID || cs[0].Embedded["aepAudienceStatus"] != "exited" ||
		cs[0].Embedded["aepExitedAt"] != "2023-10-01T08:00:00.000000Z" || cs[0].LastName != "Jensen" {
		t.Errorf("after the exit: %+v", cs)
	}
	if n := len(runsOf(h, "aep-audience-realized", "")); n != 1 {
		t.Errorf("%d realized runs after a redelivery, want 1", n)
	}

	// The doc example's identity is a placeholder, not an email address.
	accept("seed-doc-example.json")
	var failed []runView
	waitFor(t, 60*time.Second, "the doc example's run to fail", func() bool {
		failed = runsOf(h, "aep-audience-realized", "failed")
		return len(failed) == 1
	})
	if e := failed[0].Tasks[0].Error; e == nil || e.Retryable || !strings.Contains(e.Message, `contact email "Email-2Sf6C" is not an email address`) {
		t.Errorf("failed run: %+v", failed[0].Tasks[0])
	}
	if len(mail.Messages()) != 1 {
		t.Errorf("%d mails, want only Dave's", len(mail.Messages()))
	}
}
