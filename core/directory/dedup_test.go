package directory

import (
	"context"
	"errors"
	"testing"
)

// TestDedupRules upserts a sequence of inputs and checks which of them end
// up as the same contact: same[i] is the index of the first input whose
// contact input i must be.
func TestDedupRules(t *testing.T) {
	tests := []struct {
		name   string
		rules  []string
		inputs []ContactInput
		same   []int
	}{
		{
			name:  "email ignores case and surrounding space",
			rules: nil, // default [email]
			inputs: []ContactInput{
				{Email: "Ann.Lee@Example.com"},
				{Email: "  ann.lee@example.COM\t"},
				{Email: "ann.lee2@example.com"},
				{Email: "ANN.LEE@EXAMPLE.COM", FirstName: "Ann"},
			},
			same: []int{0, 0, 2, 0},
		},
		{
			name:  "phone keeps digits and a leading plus",
			rules: []string{"phone"},
			inputs: []ContactInput{
				{Phone: "+1 (555) 010-0200"},
				{Phone: "+15550100200"},
				{Phone: " +1.555.010.0200 "},
				{Phone: "15550100200"}, // no "+": another number
				{Phone: "1-555-010-0200"},
			},
			same: []int{0, 0, 0, 3, 3},
		},
		{
			name:  "firstName+lastName is one combined rule",
			rules: []string{"firstName+lastName"},
			inputs: []ContactInput{
				{FirstName: "Ann", LastName: "Lee"},
				{FirstName: " ann ", LastName: "LEE", Email: "ann@example.com"},
				{FirstName: "Ann", LastName: "Smith"},
				{FirstName: "Bob", LastName: "Lee"},
			},
			same: []int{0, 0, 2, 3},
		},
		{
			name:  "extRef ignores case",
			rules: []string{"extRef"},
			inputs: []ContactInput{
				{ExtRef: "ECID-42"},
				{ExtRef: "ecid-42 "},
				{ExtRef: "ECID-43"},
			},
			same: []int{0, 0, 2},
		},
		{
			name:  "rules are tried in order: the first that finds a contact wins",
			rules: []string{"extRef", "email"},
			inputs: []ContactInput{
				{ExtRef: "E1", Email: "a@example.com"},
				{ExtRef: "E2", Email: "b@example.com"},
				// extRef E1 finds the first contact before email b finds
				// the second.
				{ExtRef: "E1", Email: "b@example.com"},
				// No extRef: the email rule decides, and b still belongs to
				// the second contact (a claim is never taken from another).
				{Email: "b@example.com"},
				// Unknown extRef, known email: the email rule finds it.
				{ExtRef: "E9", Email: "b@example.com"},
			},
			same: []int{0, 1, 0, 1, 1},
		},
		{
			name:  "a rule applies only when all its fields are given",
			rules: []string{"firstName+lastName", "email"},
			inputs: []ContactInput{
				{FirstName: "Ann", LastName: "Lee", Email: "ann@example.com"},
				{FirstName: "Ann", Email: "ann@example.com"},         // name rule incomplete: email
				{FirstName: "Ann", LastName: "Lee", Email: "x@x.io"}, // name rule first
				{LastName: "Lee", Email: "other@example.com"},        // neither: new
			},
			same: []int{0, 0, 0, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestService(t, dirCfg("POOL_t", tt.rules...))
			ids := make([]string, len(tt.inputs))
			for i, in := range tt.inputs {
				c, created := upsert(t, s, "POOL_t", in)
				ids[i] = c.ID
				if wantNew := tt.same[i] == i; created != wantNew {
					t.Errorf("input %d %+v: created = %v, want %v", i, in, created, wantNew)
				}
			}
			distinct := map[string]bool{}
			for i, want := range tt.same {
				distinct[ids[want]] = true
				if ids[i] != ids[want] {
					t.Errorf("input %d %+v became %s, want the contact of input %d (%s)", i, tt.inputs[i], ids[i], want, ids[want])
				}
			}
			if n := count(t, s, "POOL_t"); n != len(distinct) {
				t.Errorf("directory holds %d contacts, want %d", n, len(distinct))
			}
		})
	}
}

func TestUpsertRefusesInputWithoutIdentity(t *testing.T) {
	tests := []struct {
		rules []string
		in    ContactInput
		want  string
	}{
		{nil, ContactInput{Phone: "+15550100200", FirstName: "Ann"},
			"contact has none of the directory's dedup fields: email"},
		{[]string{"email", "firstName+lastName"}, ContactInput{FirstName: "Ann", Phone: "+1555"},
			"contact has none of the directory's dedup fields: email, firstName+lastName"},
		{[]string{"phone"}, ContactInput{Email: "ann@example.com", Phone: "   "},
			"contact has none of the directory's dedup fields: phone"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s := newTestService(t, dirCfg("POOL_t", tt.rules...))
			_, _, err := s.Upsert(context.Background(), "POOL_t", tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Upsert(%+v) error = %v, want %q", tt.in, err, tt.want)
			}
			wantPermanent(t, err)
			if n := count(t, s, "POOL_t"); n != 0 {
				t.Errorf("%d contacts stored, want none", n)
			}
		})
	}
}

func TestUpsertValidatesInput(t *testing.T) {
	tests := []struct {
		in   ContactInput
		want string
	}{
		{ContactInput{Email: "not-an-email"}, `contact email "not-an-email" is not an email address`},
		{ContactInput{Email: "a@b@c"}, `contact email "a@b@c" is not an email address`},
		{ContactInput{Email: "a@example.com", Phone: "call me"}, `contact phone "call me" has no digits`},
		{ContactInput{Email: "a@example.com", Embedded: map[string]any{"tier": map[string]any{"x": 1}}},
			"embedded.tier: want a string, number or boolean, got an object"},
		{ContactInput{Email: "a@example.com", Embedded: map[string]any{"tags": []any{"a"}}},
			"embedded.tags: want a string, number or boolean, got a list"},
		{ContactInput{Email: "a@example.com", Embedded: map[string]any{"": "x"}}, `embedded: key "": want 1 to 200 bytes`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s := newTestService(t, dirCfg("POOL_t"))
			_, _, err := s.Upsert(context.Background(), "POOL_t", tt.in)
			wantErr(t, err, tt.want)
			wantPermanent(t, err)
		})
	}
}

func TestUnknownDirectory(t *testing.T) {
	s := newTestService(t, dirCfg("POOL_demo"), dirCfg("POOL_b"))
	_, _, err := s.Upsert(context.Background(), "POOL_x", ContactInput{Email: "a@example.com"})
	if !errors.Is(err, ErrUnknownDirectory) {
		t.Fatalf("error %v, want ErrUnknownDirectory", err)
	}
	wantErr(t, err, `unknown directory "POOL_x" (configured: POOL_b, POOL_demo)`)
	wantPermanent(t, err)

	none := newTestService(t)
	_, err = none.AddTransaction(context.Background(), "POOL_demo", ContactInput{Email: "a@example.com"}, TxInput{}, "")
	wantErr(t, err, `unknown directory "POOL_demo": no Directory is configured`)
}

// TestChangedFieldMovesClaimAndLookup: when a contact found by extRef gets
// a new email, the old email neither finds it nor blocks a new contact.
func TestChangedFieldMovesClaimAndLookup(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t", "extRef", "email"))
	c1, _ := upsert(t, s, "POOL_t", ContactInput{ExtRef: "E1", Email: "old@example.com"})
	upsert(t, s, "POOL_t", ContactInput{ExtRef: "E1", Email: "new@example.com"})
	if got, _ := s.Find(ctx, "POOL_t", Query{Email: "old@example.com"}, 0); len(got) != 0 {
		t.Errorf("Find(old email) = %d contacts, want none", len(got))
	}
	got, err := s.Find(ctx, "POOL_t", Query{Email: "NEW@example.com"}, 0)
	if err != nil || len(got) != 1 || got[0].ID != c1.ID {
		t.Fatalf("Find(new email) = %v, %v; want [%s]", got, err, c1.ID)
	}
	c2, created := upsert(t, s, "POOL_t", ContactInput{Email: "old@example.com"})
	if !created || c2.ID == c1.ID {
		t.Errorf("old email after the change: got %s (created %v), want a new contact", c2.ID, created)
	}
	c3, _ := upsert(t, s, "POOL_t", ContactInput{Email: "new@example.com"})
	if c3.ID != c1.ID {
		t.Errorf("new email found %s, want %s", c3.ID, c1.ID)
	}
}

// TestLeftoverClaimIsAdopted: a claim whose contact was never written (the
// writer crashed between the two) becomes that contact on the next upsert.
func TestLeftoverClaimIsAdopted(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	d := s.set.Load().dirs["POOL_t"]
	cl := d.claims(&Contact{Email: "ann@example.com"})[0]
	cid := newID("CID_")
	if ok, err := s.kv.SetNX(ctx, cl.key, []byte(cid), 0); err != nil || !ok {
		t.Fatalf("SetNX: %v %v", ok, err)
	}
	c, created := upsert(t, s, "POOL_t", ContactInput{Email: "Ann@example.com", FirstName: "Ann"})
	if !created || c.ID != cid {
		t.Fatalf("got %s created=%v, want the claimed %s created", c.ID, created, cid)
	}
	if n := count(t, s, "POOL_t"); n != 1 {
		t.Errorf("%d contacts, want 1", n)
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"+1 (555) 010-0200":  "+15550100200",
		"0039 06 1234":       "0039061234",
		"  +44 20 7946 0958": "+442079460958",
		"+":                  "",
		"ext. 12+3":          "123",
		"":                   "",
	} {
		if got := normalizePhone(in); got != want {
			t.Errorf("normalizePhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidID(t *testing.T) {
	for i := range 100 {
		if id := newID("CID_"); !validID("CID_", id) {
			t.Fatalf("%d: newID %q is not valid", i, id)
		}
	}
	for _, bad := range []string{"", "CID_", "CID_01ARZ3NDEKTSV4RRFFQ69G5FA", "CID_01ARZ3NDEKTSV4RRFFQ69G5FAI",
		"ML_01ARZ3NDEKTSV4RRFFQ69G5FAV", "CID_01ARZ3NDEKTSV4RRFFQ69G5FA/"} {
		if validID("CID_", bad) {
			t.Errorf("validID(%q) = true", bad)
		}
	}
}
