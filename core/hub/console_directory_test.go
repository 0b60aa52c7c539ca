package hub

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/server/console"
	"github.com/junctionhub/junction/core/store"
)

func newDirectory(t *testing.T) *directory.Service {
	t.Helper()
	st, err := store.Open(context.Background(), "", store.Options{InMemory: true, Logger: quietLog, SecretKey: make([]byte, store.SecretKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return directory.New(st, []*config.Directory{
		{Name: "POOL_demo", DisplayName: "Demo pool", Dedup: [][]string{{"email"}, {"firstName", "lastName"}}},
		{Name: "POOL_empty"},
	})
}

func TestConsoleSource(t *testing.T) {
	ctx := context.Background()
	svc := newDirectory(t)
	r, err := svc.AddToList(ctx, "POOL_demo", "VIP", directory.ContactInput{Email: "ann@example.com", ExtRef: "E1", FirstName: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddTransaction(ctx, "POOL_demo", directory.ContactInput{Email: "ann@example.com"},
		directory.TxInput{Data: map[string]any{"x": 1}}, ""); err != nil {
		t.Fatal(err)
	}
	d, _, err := svc.CreateDistribution(ctx, directory.DistributionInput{ContactID: r.ContactID, SurveyID: "SV_demo", Method: "sms", RunID: "run_9"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.UpdateDistribution(ctx, d.ID, directory.DistributionUpdate{Status: "sent"}); err != nil {
		t.Fatal(err)
	}
	src := consoleDirectory(svc)
	found, err := src.FindContacts(ctx, "POOL_demo", console.ContactQuery{ExtRef: "e1"})
	if err != nil || len(found) != 1 || found[0].ID != r.ContactID || found[0].Directory != "POOL_demo" || found[0].FirstName != "Ann" {
		t.Fatalf("FindContacts = %+v, %v", found, err)
	}
	got, err := src.Contact(ctx, r.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Transactions) != 1 || len(got.Distributions) != 1 || got.Distributions[0].Survey != "SV_demo" ||
		got.Distributions[0].RunID != "run_9" || got.Distributions[0].SentAt.IsZero() || !reflect.DeepEqual(got.MailingLists, []string{"VIP"}) {
		t.Errorf("Contact = %+v", got)
	}
	// The console tells a missing contact by store.ErrNotFound.
	if _, err := src.Contact(ctx, "CID_01ARZ3NDEKTSV4RRFFQ69G5FAV"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing contact: %v, want store.ErrNotFound", err)
	}
}
