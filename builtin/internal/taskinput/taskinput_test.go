package taskinput

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestContact(t *testing.T) {
	tests := []struct {
		name, with, err string
		email           string
		unsub           *bool
	}{
		{name: "fields trimmed, number as text", with: `{"contact":{"email":" a@b.c ","phone":3912345}}`, email: "a@b.c"},
		{name: "unsubscribed string", with: `{"contact":{"email":"a@b.c","unsubscribed":"TRUE"}}`, email: "a@b.c", unsub: ptr(true)},
		{name: "unsubscribed bool", with: `{"contact":{"email":"a@b.c","unsubscribed":false}}`, email: "a@b.c", unsub: ptr(false)},
		{name: "missing", with: `{}`, err: "with.contact: required; want an object with any of email, phone, extRef, firstName, lastName, language, unsubscribed"},
		{name: "not an object", with: `{"contact":"a@b.c"}`, err: "with.contact: want an object, got a string"},
		{name: "unknown key", with: `{"contact":{"mail":"a@b.c"}}`, err: `with.contact: unknown key "mail"; want email, phone, extRef, firstName, lastName, language, unsubscribed`},
		{name: "wrong type", with: `{"contact":{"email":{"x":1}}}`, err: "with.contact.email: want a string, got an object"},
		{name: "bad unsubscribed", with: `{"contact":{"unsubscribed":"maybe"}}`, err: `with.contact.unsubscribed: want true or false, got "maybe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			dec := json.NewDecoder(strings.NewReader(tt.with))
			dec.UseNumber()
			if err := dec.Decode(&m); err != nil {
				t.Fatal(err)
			}
			in, err := Contact(m, ContactKeys)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || in.Email != tt.email {
				t.Fatalf("got %+v, %v", in, err)
			}
			if (tt.unsub == nil) != (in.Unsubscribed == nil) || (tt.unsub != nil && *tt.unsub != *in.Unsubscribed) {
				t.Errorf("unsubscribed = %v, want %v", in.Unsubscribed, tt.unsub)
			}
		})
	}
}

func ptr(b bool) *bool { return &b }
