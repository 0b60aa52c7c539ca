package directory

import (
	"context"
	"testing"
)

func TestMarkDistributionSentClearsAnEarlierError(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_demo"))
	c, _, err := s.Upsert(ctx, "POOL_demo", ContactInput{Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := s.CreateDistribution(ctx, DistributionInput{ContactID: c.ID, SurveyID: "SV_demo", Method: MethodEmail, IdempotencyKey: "run/invite"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateDistribution(ctx, d.ID, DistributionUpdate{Status: StatusFailed, Error: "451 try again later"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.MarkDistributionSent(ctx, d.ID, "<abc@example.com>", "https://surveys.example.com/jfe/form/SV_demo?jt=x")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusSent || got.Error != "" || got.SentAt.IsZero() || got.ProviderMessageID != "<abc@example.com>" || got.Link == "" {
		t.Errorf("distribution %+v", got)
	}
	byMsg, err := s.DistributionByProviderMessageID(ctx, "<abc@example.com>")
	if err != nil || byMsg.ID != d.ID {
		t.Errorf("by message id: %v, %v", byMsg, err)
	}
	again, err := s.MarkDistributionSent(ctx, d.ID, "", "")
	if err != nil || !again.SentAt.Equal(got.SentAt) || again.ProviderMessageID != "<abc@example.com>" {
		t.Errorf("marking twice changed it: %+v, %v", again, err)
	}
}
