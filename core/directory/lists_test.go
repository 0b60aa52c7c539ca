package directory

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestMailingLists(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	r1, err := s.AddToList(ctx, "POOL_t", "Newsletter", ContactInput{Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if !r1.Created || !strings.HasPrefix(r1.ListID, "ML_") {
		t.Errorf("first add = %+v, want a created contact and an ML_ list", r1)
	}
	again, err := s.AddToList(ctx, "POOL_t", " Newsletter ", ContactInput{Email: "ANN@example.com"})
	if err != nil || again.ListID != r1.ListID || again.ContactID != r1.ContactID || again.Created {
		t.Errorf("adding again = %+v, %v; want the same list and contact", again, err)
	}
	r2, err := s.AddToList(ctx, "POOL_t", "Newsletter", ContactInput{Email: "bob@example.com"})
	if err != nil || r2.ListID != r1.ListID {
		t.Fatalf("second member = %+v, %v", r2, err)
	}
	r3, err := s.AddToList(ctx, "POOL_t", "VIP", ContactInput{Email: "ann@example.com"})
	if err != nil || r3.ListID == r1.ListID {
		t.Fatalf("another list = %+v, %v; want a new list", r3, err)
	}
	lists, err := s.MailingLists(ctx, "POOL_t")
	if err != nil {
		t.Fatal(err)
	}
	if len(lists) != 2 || lists[0].Name != "Newsletter" || lists[0].Members != 2 || lists[1].Name != "VIP" || lists[1].Members != 1 {
		t.Errorf("lists = %+v, want Newsletter (2 members) and VIP (1)", lists)
	}
	members, err := s.MailingListMembers(ctx, "POOL_t", r1.ListID)
	if err != nil || len(members) != 2 || members[0].ID != r1.ContactID || members[1].ID != r2.ContactID {
		t.Errorf("members = %v, %v", members, err)
	}
	ann, err := s.Get(ctx, r1.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ann.MailingLists) != 2 {
		t.Errorf("ann's lists = %+v, want 2", ann.MailingLists)
	}
	if _, err := s.MailingListMembers(ctx, "POOL_t", "ML_01ARZ3NDEKTSV4RRFFQ69G5FAV"); !errors.Is(err, ErrNotFound) {
		t.Errorf("members of an unknown list: %v, want ErrNotFound", err)
	}
	_, err = s.AddToList(ctx, "POOL_t", "  ", ContactInput{Email: "ann@example.com"})
	wantErr(t, err, `mailing list name "  ": want 1 to 200 bytes`)
	wantPermanent(t, err)
}
