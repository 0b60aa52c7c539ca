package directory

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDistributionLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_a"), dirCfg("POOL_b", "phone"))
	clk := newClock(s)
	ann, _ := upsert(t, s, "POOL_a", ContactInput{Email: "ann@example.com", Phone: "+1 (555) 010-0200"})

	d, created, err := s.CreateDistribution(ctx, DistributionInput{
		ContactID: ann.ID, SurveyID: "SV_demo", Method: MethodSMSTwoWay, Link: "https://s.example.com/SV_demo?c=1",
		IdempotencyKey: "run_1/invite", RunID: "run_1",
	})
	if err != nil || !created {
		t.Fatalf("CreateDistribution = %v, %v, %v", d, created, err)
	}
	if d.Status != StatusQueued || d.DirectoryID != "POOL_a" || d.ContactID != ann.ID || len(d.Answers) != 0 || d.RunID != "run_1" || !d.SentAt.IsZero() {
		t.Errorf("new distribution = %+v", d)
	}
	retry, created, err := s.CreateDistribution(ctx, DistributionInput{
		ContactID: ann.ID, SurveyID: "SV_demo", Method: MethodSMSTwoWay, IdempotencyKey: "run_1/invite",
	})
	if err != nil || created || retry.ID != d.ID {
		t.Errorf("retry = %v created=%v %v; want the first distribution %s", retry, created, err, d.ID)
	}
	if _, err := s.DistributionByPhone(ctx, "+15550100200"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a queued distribution answers a reply: %v", err)
	}

	clk.advance(time.Second)
	sent, err := s.UpdateDistribution(ctx, d.ID, DistributionUpdate{Status: StatusSent, ProviderMessageID: "SM123"})
	if err != nil || sent.Status != StatusSent || !sent.UpdatedAt.Equal(clk.now()) || !sent.SentAt.Equal(clk.now()) {
		t.Fatalf("UpdateDistribution = %+v, %v", sent, err)
	}
	byMsg, err := s.DistributionByProviderMessageID(ctx, "SM123")
	if err != nil || byMsg.ID != d.ID {
		t.Errorf("by provider message id = %v, %v", byMsg, err)
	}
	// A newer email distribution and a failed SMS do not take the reply.
	email, _, err := s.CreateDistribution(ctx, DistributionInput{ContactID: ann.ID, SurveyID: "SV_demo", Method: MethodEmail})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateDistribution(ctx, email.ID, DistributionUpdate{Status: StatusSent}); err != nil {
		t.Fatal(err)
	}
	failed, _, err := s.CreateDistribution(ctx, DistributionInput{ContactID: ann.ID, SurveyID: "SV_other", Method: MethodSMSTwoWay})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateDistribution(ctx, failed.ID, DistributionUpdate{Status: StatusFailed, Error: "21211: invalid To"}); err != nil {
		t.Fatal(err)
	}
	byPhone, err := s.DistributionByPhone(ctx, "+15550100200")
	if err != nil || byPhone.ID != d.ID {
		t.Fatalf("DistributionByPhone = %v, %v; want %s", byPhone, err, d.ID)
	}
	at := clk.now().Add(time.Minute)
	answered, err := s.RecordAnswer(ctx, d.ID, at, "9")
	if err != nil {
		t.Fatal(err)
	}
	answered, err = s.RecordAnswer(ctx, answered.ID, at.Add(time.Minute), "great service")
	if err != nil {
		t.Fatal(err)
	}
	if answered.Status != StatusAnswered || len(answered.Answers) != 2 || answered.Answers[1].Body != "great service" ||
		answered.ProviderMessageID != "SM123" || !answered.SentAt.Equal(sent.SentAt) {
		t.Errorf("after two answers: %+v", answered)
	}
	// An answered distribution keeps taking replies (multi-question SMS).
	if again, err := s.DistributionByPhone(ctx, "+1 555 010 0200"); err != nil || again.ID != d.ID {
		t.Errorf("DistributionByPhone after an answer = %v, %v", again, err)
	}

	detail, err := s.Get(ctx, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(detail.Distributions) != 3 || detail.Distributions[0].ID != d.ID || detail.Distributions[0].Status != StatusAnswered {
		t.Errorf("contact's distributions = %+v", detail.Distributions)
	}
}

func TestDistributionInputErrors(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_a"))
	ann, _ := upsert(t, s, "POOL_a", ContactInput{Email: "ann@example.com"})
	_, _, err := s.CreateDistribution(ctx, DistributionInput{ContactID: ann.ID, SurveyID: "SV_demo", Method: "fax"})
	wantErr(t, err, `distribution method "fax": want one of email, sms, sms_two_way`)
	wantPermanent(t, err)
	_, _, err = s.CreateDistribution(ctx, DistributionInput{ContactID: ann.ID, Method: MethodEmail})
	wantErr(t, err, "distribution: survey is required")
	_, _, err = s.CreateDistribution(ctx, DistributionInput{ContactID: "CID_01ARZ3NDEKTSV4RRFFQ69G5FAV", SurveyID: "SV_demo", Method: MethodEmail})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown contact: %v, want ErrNotFound", err)
	}
	d, _, err := s.CreateDistribution(ctx, DistributionInput{ContactID: ann.ID, SurveyID: "SV_demo", Method: MethodEmail})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateDistribution(ctx, d.ID, DistributionUpdate{Status: "delivered"})
	wantErr(t, err, `distribution status "delivered": want one of queued, sent, failed, answered`)
	if _, err := s.UpdateDistribution(ctx, "DIST_01ARZ3NDEKTSV4RRFFQ69G5FAV", DistributionUpdate{Status: StatusSent}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown distribution: %v", err)
	}
	if _, err := s.DistributionByProviderMessageID(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown provider id: %v", err)
	}
	_, err = s.DistributionByPhone(ctx, "n/a")
	wantErr(t, err, `phone "n/a" has no digits`)
}
