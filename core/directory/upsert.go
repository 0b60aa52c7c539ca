package directory

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"

	"github.com/oklog/ulid/v2"

	"github.com/junctionhub/junction/core/store"
)

// newID returns prefix + a ULID: unique, and sorting in creation order.
func newID(prefix string) string { return prefix + ulid.Make().String() }

// errStale means the claim a contact was found through moved before the
// contact could be locked; the caller resolves again.
var errStale = errors.New("dedup claim moved")

// maxResolve bounds how often an upsert re-resolves after losing a race to
// another writer of the same store; each loss means someone else made
// progress, so a few rounds suffice.
const maxResolve = 8

// extraFunc returns more writes to commit with a contact's change; it runs
// with the contact locked, once its ID and whether it was created are known.
type extraFunc func(ctx context.Context, c *Contact, created bool) ([]store.KVWrite, error)

// Upsert creates a contact, or updates the one the directory's dedup rules
// match: given fields replace stored ones, embedded data is merged key by
// key. It reports whether the contact was created.
func (s *Service) Upsert(ctx context.Context, dir string, in ContactInput) (*Contact, bool, error) {
	d, err := s.dir(dir)
	if err != nil {
		return nil, false, err
	}
	return s.upsert(ctx, d, in, nil)
}

// UpsertOnce is Upsert for a task: a retry with the same idempotency key
// returns the first call's result instead of upserting again (so "created"
// stays true). An empty key disables that.
func (s *Service) UpsertOnce(ctx context.Context, dir string, in ContactInput, idempotencyKey string) (Result, error) {
	d, err := s.dir(dir)
	if err != nil {
		return Result{}, err
	}
	return s.once(ctx, d, idempotencyKey, func(save saveFunc) (Result, error) {
		var r Result
		_, _, err := s.upsert(ctx, d, in, func(_ context.Context, c *Contact, created bool) ([]store.KVWrite, error) {
			r = Result{ContactID: c.ID, Created: created}
			return save(r), nil
		})
		return r, err
	})
}

func (s *Service) upsert(ctx context.Context, d *dirConf, in ContactInput, extra extraFunc) (*Contact, bool, error) {
	in, err := in.clean()
	if err != nil {
		return nil, false, err
	}
	probe := &Contact{FirstName: in.FirstName, LastName: in.LastName, Email: in.Email, Phone: in.Phone, ExtRef: in.ExtRef}
	claims := d.claims(probe)
	if len(claims) == 0 {
		return nil, false, inputErrorf("contact has none of the directory's dedup fields: %s", d.ruleNames())
	}
	names := make([]string, len(claims))
	for i, c := range claims {
		names[i] = c.key
	}
	unlock := s.locks.lock(names...)
	defer unlock()
	for range maxResolve {
		cid, via, err := s.resolve(ctx, claims)
		if err != nil {
			return nil, false, err
		}
		if cid == "" {
			// Nobody has this person: claim every rule's key for a new
			// contact (cluster.go). Losing one means another writer of the
			// store just did.
			c, created, ok, err := s.create(ctx, d, claims, in, extra)
			if err != nil || ok {
				return c, created, err
			}
			continue
		}
		c, created, err := s.apply(ctx, d, cid, via, in, extra)
		if errors.Is(err, errStale) {
			continue
		}
		return c, created, err
	}
	return nil, false, fmt.Errorf("upsert contact in %s: its dedup keys changed %d times while it was being written", d.id, maxResolve)
}

// resolve returns the contact the first matching rule finds, and the claim
// key it was found through; "" when no rule matches.
func (s *Service) resolve(ctx context.Context, claims []claim) (cid, via string, err error) {
	for _, c := range claims {
		v, err := s.kv.Get(ctx, c.key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("match contact by %s: %w", c.rule, err)
		}
		return string(v), c.key, nil
	}
	return "", "", nil
}

// apply merges the input into contact cid under the contact's lock and
// writes the result with its index changes and the extra writes in one
// batch. A claim without a record (its writer crashed) becomes a new
// contact with the claimed ID.
func (s *Service) apply(ctx context.Context, d *dirConf, cid, via string, in ContactInput, extra extraFunc) (*Contact, bool, error) {
	unlock, err := s.lockAll(ctx, d, cid)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	return s.applyLocked(ctx, d, cid, via, in, extra)
}

// create claims every dedup key for a new contact and writes it, holding
// the new contact's lock from before the first claim to the write. Another
// node that resolves one of those claims in the meantime waits for the
// lock instead of taking the claim for a contact that crashed before its
// record was written and creating it itself: if this create then loses a
// later claim and gives the first back, that node would have made a second
// contact for the person (TestDedupAcrossNodes, "through different rules").
// ok is false, with nothing written, when another contact holds a claim.
func (s *Service) create(ctx context.Context, d *dirConf, claims []claim, in ContactInput, extra extraFunc) (c *Contact, created, ok bool, err error) {
	cid := newID("CID_")
	unlock, err := s.lockAll(ctx, d, cid)
	if err != nil {
		return nil, false, false, err
	}
	defer unlock()
	if ok, err := s.claimAll(ctx, d, claims, cid); err != nil || !ok {
		return nil, false, false, err
	}
	c, created, err = s.applyLocked(ctx, d, cid, claims[0].key, in, extra)
	return c, created, err == nil, err
}

// lockAll takes contact cid's in-process lock and, on a shared store, its
// store lock, and returns their release.
func (s *Service) lockAll(ctx context.Context, d *dirConf, cid string) (func(), error) {
	unlock := s.locks.lock("contact/" + cid)
	unlockStore, err := s.lockContact(ctx, d, cid)
	if err != nil {
		unlock()
		return nil, err
	}
	return func() { unlockStore(); unlock() }, nil
}

// applyLocked is apply with the contact's locks held.
func (s *Service) applyLocked(ctx context.Context, d *dirConf, cid, via string, in ContactInput, extra extraFunc) (*Contact, bool, error) {
	// Only the holder of this contact's lock moves claims that point at it,
	// so once checked here, via stays ours until the batch commits.
	owner, err := s.kv.Get(ctx, via)
	if errors.Is(err, store.ErrNotFound) || (err == nil && string(owner) != cid) {
		return nil, false, errStale
	}
	if err != nil {
		return nil, false, fmt.Errorf("check dedup claim of %s: %w", cid, err)
	}
	old, err := s.loadContact(ctx, d, cid)
	created := errors.Is(err, ErrNotFound)
	if err != nil && !created {
		return nil, false, err
	}
	now := s.now().UTC()
	var c Contact
	if created {
		c = Contact{ID: cid, DirectoryID: d.id, CreatedAt: now, Embedded: map[string]any{}}
	} else {
		c = *old
		c.Embedded = maps.Clone(old.Embedded)
	}
	changed := in.applyTo(&c) || created

	var w []store.KVWrite
	want := map[string]bool{}
	for _, cl := range d.claims(&c) {
		want[cl.key] = true
		if cl.key != via {
			if err := s.claim(ctx, cl, cid); err != nil {
				return nil, false, err
			}
		}
	}
	if old != nil {
		rel, err := s.released(ctx, d.claims(old), want, cid)
		if err != nil {
			return nil, false, err
		}
		w = append(w, rel...)
	}
	newIdx := d.lookupKeys(&c)
	oldIdx := map[string]bool{}
	if old != nil {
		oldIdx = d.lookupKeys(old)
	}
	for k := range oldIdx {
		if !newIdx[k] {
			w = append(w, store.KVWrite{Key: k})
		}
	}
	for k := range newIdx {
		if !oldIdx[k] {
			w = append(w, store.KVWrite{Key: k, Value: []byte{}})
		}
	}
	if changed {
		c.UpdatedAt = now
		w = append(w, store.KVWrite{Key: contactKey(d, cid), Value: mustJSON(&c)})
		if created {
			w = append(w, store.KVWrite{Key: d.key("m/" + cid), Value: []byte{}})
		}
	}
	if extra != nil {
		ew, err := extra(ctx, &c, created)
		if err != nil {
			return nil, false, err
		}
		w = append(w, ew...)
	}
	if err := s.write(ctx, w); err != nil {
		return nil, false, fmt.Errorf("save contact %s in %s: %w", cid, d.id, err)
	}
	return &c, created, nil
}

// claim makes key point at cid unless another contact holds it already (two
// contacts sharing, say, a phone: the first keeps the claim).
func (s *Service) claim(ctx context.Context, cl claim, cid string) error {
	_, err := s.kv.Get(ctx, cl.key)
	if err == nil {
		return nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("check dedup claim %s of %s: %w", cl.rule, cid, err)
	}
	if _, err := s.kv.SetNX(ctx, cl.key, []byte(cid), 0); err != nil {
		return fmt.Errorf("claim %s for %s: %w", cl.rule, cid, err)
	}
	return nil
}

// released returns deletes for the claims the contact held under its old
// values and no longer wants. A claim held by another contact is left alone.
func (s *Service) released(ctx context.Context, old []claim, want map[string]bool, cid string) ([]store.KVWrite, error) {
	var w []store.KVWrite
	for _, cl := range old {
		if want[cl.key] {
			continue
		}
		owner, err := s.kv.Get(ctx, cl.key)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("check dedup claim %s of %s: %w", cl.rule, cid, err)
		}
		if string(owner) == cid {
			w = append(w, store.KVWrite{Key: cl.key})
		}
	}
	return w, nil
}

// applyTo sets the given fields on c and merges the embedded data; it
// reports whether anything changed.
func (in ContactInput) applyTo(c *Contact) bool {
	changed := false
	set := func(dst *string, v string) {
		if v != "" && *dst != v {
			*dst, changed = v, true
		}
	}
	set(&c.FirstName, in.FirstName)
	set(&c.LastName, in.LastName)
	set(&c.Email, in.Email)
	set(&c.Phone, in.Phone)
	set(&c.ExtRef, in.ExtRef)
	set(&c.Language, in.Language)
	if in.Unsubscribed != nil && c.Unsubscribed != *in.Unsubscribed {
		c.Unsubscribed, changed = *in.Unsubscribed, true
	}
	for k, v := range in.Embedded {
		if old, ok := c.Embedded[k]; !ok || old != v {
			c.Embedded[k], changed = v, true
		}
	}
	return changed
}

// saveFunc returns the write that records a task's result under its
// idempotency key (none when the call has no key).
type saveFunc func(Result) []store.KVWrite

// once runs fn unless a call with the same idempotency key already
// succeeded, in which case it returns that call's result. fn must commit
// save's writes together with its own, so that the result exists exactly
// when the effect does.
func (s *Service) once(ctx context.Context, d *dirConf, key string, fn func(save saveFunc) (Result, error)) (Result, error) {
	if key == "" {
		return fn(func(Result) []store.KVWrite { return nil })
	}
	if len(key) > 1000 {
		return Result{}, inputErrorf("idempotency key of %d bytes: longer than 1000", len(key))
	}
	ik := d.key("idem/" + url.PathEscape(key))
	unlock := s.locks.lock("idem/" + ik)
	defer unlock()
	var r Result
	err := s.getJSON(ctx, ik, &r)
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return r, fmt.Errorf("read idempotency key %q: %w", key, err)
	}
	return fn(func(r Result) []store.KVWrite {
		return []store.KVWrite{{Key: ik, Value: mustJSON(r), TTL: IdempotencyTTL}}
	})
}
