package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/config"
)

func TestEmbeddedDataIsMergedKeyByKey(t *testing.T) {
	s := newTestService(t, dirCfg("POOL_t"))
	upsert(t, s, "POOL_t", ContactInput{Email: "ann@example.com", Embedded: map[string]any{
		"tier": "gold", "visits": 3, "vip": true, "account": json.Number("12345678901234567890"),
	}})
	c, created := upsert(t, s, "POOL_t", ContactInput{Email: "ann@example.com", Embedded: map[string]any{
		"tier": "platinum", "score": 9.5, "missing": nil,
	}})
	if created {
		t.Fatal("second upsert created a contact")
	}
	want := map[string]any{
		"tier": "platinum", "visits": json.Number("3"), "vip": true,
		"account": json.Number("12345678901234567890"), "score": json.Number("9.5"),
	}
	if !reflect.DeepEqual(c.Embedded, want) {
		t.Errorf("returned embedded = %#v, want %#v", c.Embedded, want)
	}
	stored, err := s.Contact(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored.Embedded, want) {
		t.Errorf("stored embedded = %#v, want %#v (a big integer must keep its digits)", stored.Embedded, want)
	}
}

func TestUpsertChangesOnlyGivenFields(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	clk := newClock(s)
	first, _ := upsert(t, s, "POOL_t", ContactInput{
		Email: "ann@example.com", FirstName: "Ann", LastName: "Lee", Phone: "+39 06 1234", Language: "it",
		ExtRef: "E1", Unsubscribed: ptr(true), Embedded: map[string]any{"tier": "gold"},
	})
	clk.advance(time.Minute)
	got, _ := upsert(t, s, "POOL_t", ContactInput{Email: " ANN@example.com ", LastName: "Smith"})
	want := *first
	want.LastName, want.Email, want.UpdatedAt = "Smith", "ANN@example.com", clk.now()
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("after a lastName update:\n got %+v\nwant %+v", *got, want)
	}
	// Nothing new: nothing is written, updatedAt stays.
	clk.advance(time.Minute)
	same, _ := upsert(t, s, "POOL_t", ContactInput{Email: "ANN@example.com", LastName: "Smith", Embedded: map[string]any{"tier": "gold"}})
	if !same.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("an upsert that changes nothing moved updatedAt to %s", same.UpdatedAt)
	}
	// Unsubscribed changes only when given.
	got, _ = upsert(t, s, "POOL_t", ContactInput{Email: "ann@example.com", Unsubscribed: ptr(false)})
	if got.Unsubscribed {
		t.Error("unsubscribed: false was not applied")
	}
	stored, err := s.Contact(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.FirstName != "Ann" || stored.Phone != "+39 06 1234" || stored.Language != "it" || stored.ExtRef != "E1" ||
		!stored.CreatedAt.Equal(first.CreatedAt) || stored.DirectoryID != "POOL_t" {
		t.Errorf("stored contact lost fields it was not given: %+v", stored)
	}
}

// TestConcurrentUpsertsOfOnePersonCreateOneContact: 50 deliveries of the
// same person at once (differently written emails) make one contact that
// has every delivery's embedded data.
func TestConcurrentUpsertsOfOnePersonCreateOneContact(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	const n = 50
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			email := "ann@example.com"
			if i%2 == 1 {
				email = " Ann@Example.COM "
			}
			c, _, err := s.Upsert(ctx, "POOL_t", ContactInput{Email: email, Embedded: map[string]any{fmt.Sprintf("k%02d", i): i}})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = c.ID
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := count(t, s, "POOL_t"); got != 1 {
		t.Fatalf("%d contacts after %d concurrent upserts of one person, want 1", got, n)
	}
	for i, id := range ids {
		if id != ids[0] {
			t.Fatalf("upsert %d got contact %s, upsert 0 got %s", i, id, ids[0])
		}
	}
	c, err := s.Contact(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Embedded) != n {
		t.Errorf("embedded has %d keys, want %d: %v", len(c.Embedded), n, slicesSorted(c.Embedded))
	}
	for i := range n {
		if v := c.Embedded[fmt.Sprintf("k%02d", i)]; v != json.Number(fmt.Sprint(i)) {
			t.Errorf("embedded k%02d = %v, want %d", i, v, i)
		}
	}
}

// TestConcurrentUpsertsThroughTwoServices: two Services on one store share
// no locks (as two nodes would not); the store's SetNX claim alone must
// still keep the person to one contact.
func TestConcurrentUpsertsThroughTwoServices(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, "")
	a, b := New(st, []*config.Directory{dirCfg("POOL_t")}), New(st, []*config.Directory{dirCfg("POOL_t")})
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			in := ContactInput{Email: "bob@example.com", Phone: fmt.Sprintf("+1555010%04d", i)}
			if _, _, err := s.Upsert(ctx, "POOL_t", in); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := count(t, a, "POOL_t"); got != 1 {
		t.Fatalf("%d contacts, want 1", got)
	}
}

func TestListContactsPages(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	var want []string
	for i := range 120 {
		c, _ := upsert(t, s, "POOL_t", ContactInput{Email: fmt.Sprintf("p%03d@example.com", i)})
		want = append(want, c.ID)
	}
	var got []string
	after := ""
	pages := 0
	for {
		cs, next, err := s.ListContacts(ctx, "POOL_t", 50, after)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, c := range cs {
			got = append(got, c.ID)
		}
		if next == "" {
			break
		}
		after = next
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if pages != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("%d pages, ids in creation order: %v; want 3 pages of all %d", pages, reflect.DeepEqual(got, want), len(want))
	}
	cs, next, err := s.ListContacts(ctx, "POOL_t", 10, want[len(want)-1])
	if err != nil || len(cs) != 0 || next != "" {
		t.Errorf("after the last contact: %d contacts, next %q, %v; want none", len(cs), next, err)
	}
	_, _, err = s.ListContacts(ctx, "POOL_t", 10, "CID_nope")
	wantErr(t, err, `after "CID_nope": want a contact ID`)
}

// TestListAfterCursorBetweenKeys: the cursor need not exist; every key that
// sorts after it is returned, in order, whatever character position differs.
func TestListAfterCursorBetweenKeys(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, "")
	ids := []string{
		"CID_00000000000000000000000000", "CID_00000000000000000000000001", "CID_0000000000000000000000000Z",
		"CID_00000000000000000000000010", "CID_0ZZZZZZZZZZZZZZZZZZZZZZZZZ", "CID_10000000000000000000000000",
		"CID_7ZZZZZZZZZZZZZZZZZZZZZZZZZ",
	}
	for _, id := range ids {
		if err := st.KV().Set(ctx, "p/"+id, []byte(id), 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.KV().Set(ctx, "q/CID_00000000000000000000000002", []byte("other prefix"), 0); err != nil {
		t.Fatal(err)
	}
	for i, after := range append([]string{"CID_00000000000000000000000002"}, ids...) {
		var want []string
		for _, id := range ids {
			if id > after {
				want = append(want, id)
			}
		}
		for _, limit := range []int{1, 2, 100} {
			kvs, err := listAfter(ctx, st.KV(), "p/", "CID_", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range kvs {
				got = append(got, string(p.Value))
			}
			w := want[:min(limit, len(want))]
			if strings.Join(got, " ") != strings.Join(w, " ") {
				t.Errorf("case %d: listAfter(%s, %d) = %v, want %v", i, after, limit, got, w)
			}
		}
	}
}

func TestFind(t *testing.T) {
	ctx := context.Background()
	// Deduplicated by extRef: emails and phones may repeat.
	s := newTestService(t, dirCfg("POOL_t", "extRef"))
	a, _ := upsert(t, s, "POOL_t", ContactInput{ExtRef: "A", Email: "shared@example.com", Phone: "+1 555 0100"})
	b, _ := upsert(t, s, "POOL_t", ContactInput{ExtRef: "B", Email: "Shared@Example.com", Phone: "+1 555 0199"})
	tests := []struct {
		q    Query
		want []string
	}{
		{Query{Email: "SHARED@example.com"}, []string{a.ID, b.ID}},
		{Query{Email: "shared@example.com", Phone: "+15550199"}, []string{b.ID}},
		{Query{Phone: "+1 (555) 0100"}, []string{a.ID}},
		{Query{ExtRef: "b"}, []string{b.ID}},
		{Query{ExtRef: "A", Email: "nobody@example.com"}, nil},
		{Query{Email: "nobody@example.com"}, nil},
	}
	for _, tt := range tests {
		got, err := s.Find(ctx, "POOL_t", tt.q, 0)
		if err != nil {
			t.Fatalf("Find(%+v): %v", tt.q, err)
		}
		var ids []string
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("Find(%+v) = %v, want %v", tt.q, ids, tt.want)
		}
	}
	if got, _ := s.Find(ctx, "POOL_t", Query{Email: "shared@example.com"}, 1); len(got) != 1 {
		t.Errorf("Find with limit 1 returned %d", len(got))
	}
	_, err := s.Find(ctx, "POOL_t", Query{}, 0)
	wantErr(t, err, "give an email, phone or extRef")
}

func TestContactsSurviveReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st1 := openStore(t, dir)
	s1 := New(st1, []*config.Directory{dirCfg("POOL_t")})
	r, err := s1.AddTransaction(ctx, "POOL_t", ContactInput{Email: "ann@example.com"}, TxInput{Data: map[string]any{"amount": 5}}, "run1/save")
	if err != nil {
		t.Fatal(err)
	}
	if err := st1.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := New(openStore(t, dir), []*config.Directory{dirCfg("POOL_t")})
	got, err := s2.Get(ctx, r.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "ann@example.com" || len(got.Transactions) != 1 || got.Transactions[0].ID != r.TransactionID {
		t.Errorf("after reopen: %+v", got)
	}
	again, err := s2.AddTransaction(ctx, "POOL_t", ContactInput{Email: "ann@example.com"}, TxInput{Data: map[string]any{"amount": 5}}, "run1/save")
	if err != nil || again != r {
		t.Errorf("retry after reopen = %+v, %v; want %+v", again, err, r)
	}
}

func slicesSorted(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
