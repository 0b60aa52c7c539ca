package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/junctionhub/junction/core/store"
)

// Query finds contacts by their lookup fields; every given field must
// match (compared as dedup rules compare them).
type Query struct {
	Email, ExtRef, Phone string
}

func (q Query) empty() bool { return q.Email == "" && q.ExtRef == "" && q.Phone == "" }

// ContactDetail is a contact with what hangs off it.
type ContactDetail struct {
	Contact
	Transactions  []Transaction   `json:"transactions"`
	Distributions []*Distribution `json:"distributions"`
	MailingLists  []ListRef       `json:"mailingLists"`
}

// MaxPage is the most contacts one ListContacts or Find call returns.
const MaxPage = 1000

// Find returns up to limit contacts (at most MaxPage; 0 means MaxPage)
// matching every given field of q, oldest first. The email, phone and
// external reference are indexed whatever the dedup rules are, so a
// directory deduplicated by phone can still be searched by email (and may
// hold several contacts with one email).
func (s *Service) Find(ctx context.Context, dir string, q Query, limit int) ([]*Contact, error) {
	d, err := s.dir(dir)
	if err != nil {
		return nil, err
	}
	if q.empty() {
		return nil, inputErrorf("find contacts: give an email, phone or extRef")
	}
	if limit <= 0 || limit > MaxPage {
		limit = MaxPage
	}
	want := map[string]string{}
	for _, f := range []struct{ name, v string }{{"email", q.Email}, {"phone", q.Phone}, {"extRef", q.ExtRef}} {
		if strings.TrimSpace(f.v) == "" {
			continue
		}
		n := normalize(f.name, f.v)
		if n == "" {
			return nil, inputErrorf("find contacts: %s %q matches nothing (a phone needs digits)", f.name, f.v)
		}
		want[f.name] = n
	}
	// Scan the index of one given field, check the others on the records.
	var scan string
	for _, f := range lookupFields {
		if _, ok := want[f]; ok {
			scan = f
			break
		}
	}
	prefix := lookupPrefix(d, scan, want[scan])
	kvs, err := s.kv.List(ctx, prefix, 0)
	if err != nil {
		return nil, fmt.Errorf("find contacts in %s by %s: %w", dir, scan, err)
	}
	var out []*Contact
	for _, p := range kvs {
		c, err := s.loadContact(ctx, d, strings.TrimPrefix(p.Key, prefix))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		match := true
		for f, v := range want {
			match = match && normalize(f, c.field(f)) == v
		}
		if match {
			out = append(out, c)
		}
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

// ListContacts returns up to limit contacts (at most MaxPage; 0 means 50)
// created after the contact ID after ("" starts at the first), oldest
// first, and the cursor of the next page ("" when there is none).
func (s *Service) ListContacts(ctx context.Context, dir string, limit int, after string) ([]*Contact, string, error) {
	d, err := s.dir(dir)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxPage)
	if after != "" && !validID("CID_", after) {
		return nil, "", inputErrorf("after %q: want a contact ID (CID_ and 26 letters and digits)", after)
	}
	prefix := d.key("c/")
	kvs, err := listAfter(ctx, s.kv, prefix, "CID_", after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list contacts of %s: %w", dir, err)
	}
	next := ""
	if len(kvs) > limit {
		kvs = kvs[:limit]
		next = strings.TrimPrefix(kvs[limit-1].Key, prefix)
	}
	out := make([]*Contact, 0, len(kvs))
	for _, p := range kvs {
		var c Contact
		if err := decodeJSON(p.Value, &c); err != nil {
			return nil, "", fmt.Errorf("decode contact %s: %w", strings.TrimPrefix(p.Key, prefix), err)
		}
		if c.Embedded == nil {
			c.Embedded = map[string]any{}
		}
		out = append(out, &c)
	}
	return out, next, nil
}

// Get returns a contact with its transactions (by date), distributions and
// mailing lists.
func (s *Service) Get(ctx context.Context, id string) (*ContactDetail, error) {
	c, err := s.Contact(ctx, id)
	if err != nil {
		return nil, err
	}
	d := s.set.Load().conf(c.DirectoryID)
	out := &ContactDetail{Contact: *c}
	if out.Transactions, err = s.transactions(ctx, d, id); err != nil {
		return nil, err
	}
	if out.Distributions, err = s.distributions(ctx, d, id); err != nil {
		return nil, err
	}
	if out.MailingLists, err = s.contactLists(ctx, d, id); err != nil {
		return nil, err
	}
	return out, nil
}

// ulidAlphabet is Crockford's base32, in ASCII order: the characters a
// ULID is written with.
const ulidAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// validID reports whether id is prefix followed by a ULID.
func validID(prefix, id string) bool {
	rest, ok := strings.CutPrefix(id, prefix)
	if !ok || len(rest) != 26 {
		return false
	}
	for i := range len(rest) {
		if strings.IndexByte(ulidAlphabet, rest[i]) < 0 {
			return false
		}
	}
	return true
}

// listAfter returns up to limit pairs under prefix whose key is greater than
// prefix+after, in key order, where every key under prefix is idPrefix and a
// ULID. KV.List has no start key, so the keys after a ULID are walked as
// the prefixes that sort after it: same first i characters, then a greater
// (i+1)-th, for i from the last position down. Each step is one seek, at
// most 26 × 32 of them, however many keys come before the cursor.
func listAfter(ctx context.Context, kv store.KV, prefix, idPrefix, after string, limit int) ([]store.KVPair, error) {
	if after == "" {
		return kv.List(ctx, prefix, limit)
	}
	var out []store.KVPair
	ulid := strings.TrimPrefix(after, idPrefix)
	for i := len(ulid) - 1; i >= 0; i-- {
		next := strings.IndexByte(ulidAlphabet, ulid[i]) + 1
		for _, ch := range ulidAlphabet[next:] {
			kvs, err := kv.List(ctx, prefix+idPrefix+ulid[:i]+string(ch), limit-len(out))
			if err != nil {
				return nil, err
			}
			out = append(out, kvs...)
			if len(out) >= limit {
				return out, nil
			}
		}
	}
	return slices.Clip(out), nil
}
