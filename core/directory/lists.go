package directory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// MailingList is a named set of contacts of one directory.
type MailingList struct {
	ID          string    `json:"id"`
	DirectoryID string    `json:"directoryId"`
	Name        string    `json:"name"`
	CreatedAt   time.Time `json:"createdAt"`
	// Members is filled in by MailingLists.
	Members int `json:"members"`
}

type membership struct {
	AddedAt time.Time `json:"addedAt"`
}

func listKey(d *dirConf, lid string) string { return d.key("l/" + lid) }
func memberPrefix(d *dirConf, lid string) string {
	return d.key("lm/" + lid + "/")
}
func contactListsPrefix(d *dirConf, cid string) string { return d.key("cl/" + cid + "/") }

// AddToList adds the contact the dedup rules match (created when none does)
// to the directory's mailing list of that name, created on first use.
// Adding a member again changes nothing.
func (s *Service) AddToList(ctx context.Context, dir, list string, in ContactInput) (Result, error) {
	d, err := s.dir(dir)
	if err != nil {
		return Result{}, err
	}
	name := strings.TrimSpace(list)
	if name == "" || len(name) > maxKeyLen {
		return Result{}, inputErrorf("mailing list name %q: want 1 to %d bytes", list, maxKeyLen)
	}
	lid, err := s.ensureList(ctx, d, name)
	if err != nil {
		return Result{}, err
	}
	var r Result
	_, _, err = s.upsert(ctx, d, in, func(ctx context.Context, c *Contact, created bool) ([]store.KVWrite, error) {
		r = Result{ContactID: c.ID, Created: created, ListID: lid}
		var w []store.KVWrite
		// A list whose name was claimed by a writer that crashed before
		// saving the record gets its record here.
		if _, err := s.kv.Get(ctx, listKey(d, lid)); errors.Is(err, store.ErrNotFound) {
			l := MailingList{ID: lid, DirectoryID: d.id, Name: name, CreatedAt: s.now().UTC()}
			w = append(w, store.KVWrite{Key: listKey(d, lid), Value: mustJSON(&l)})
		} else if err != nil {
			return nil, fmt.Errorf("read mailing list %s: %w", lid, err)
		}
		mk := memberPrefix(d, lid) + c.ID
		if _, err := s.kv.Get(ctx, mk); errors.Is(err, store.ErrNotFound) {
			w = append(w,
				store.KVWrite{Key: mk, Value: mustJSON(membership{AddedAt: s.now().UTC()})},
				store.KVWrite{Key: contactListsPrefix(d, c.ID) + lid, Value: []byte{}})
		} else if err != nil {
			return nil, fmt.Errorf("read membership of %s in %s: %w", c.ID, lid, err)
		}
		return w, nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("add contact to mailing list %q of %s: %w", name, d.id, err)
	}
	return r, nil
}

// ensureList returns the ID of the named list, claiming a new one when the
// name is unused.
func (s *Service) ensureList(ctx context.Context, d *dirConf, name string) (string, error) {
	nk := d.key("ln/" + url.PathEscape(name))
	unlock := s.locks.lock("list/" + nk)
	defer unlock()
	for range maxResolve {
		v, err := s.kv.Get(ctx, nk)
		if err == nil {
			return string(v), nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return "", fmt.Errorf("find mailing list %q of %s: %w", name, d.id, err)
		}
		lid := newID("ML_")
		ok, err := s.kv.SetNX(ctx, nk, []byte(lid), 0)
		if err != nil {
			return "", fmt.Errorf("create mailing list %q of %s: %w", name, d.id, err)
		}
		if ok {
			return lid, nil
		}
	}
	return "", fmt.Errorf("create mailing list %q of %s: its name kept changing", name, d.id)
}

// MailingLists returns a directory's mailing lists by ID, with member
// counts.
func (s *Service) MailingLists(ctx context.Context, dir string) ([]MailingList, error) {
	d, err := s.dir(dir)
	if err != nil {
		return nil, err
	}
	kvs, err := s.kv.List(ctx, d.key("l/"), 0)
	if err != nil {
		return nil, fmt.Errorf("list mailing lists of %s: %w", dir, err)
	}
	out := make([]MailingList, 0, len(kvs))
	for _, p := range kvs {
		var l MailingList
		if err := decodeJSON(p.Value, &l); err != nil {
			return nil, fmt.Errorf("decode mailing list %s: %w", p.Key, err)
		}
		members, err := s.kv.List(ctx, memberPrefix(d, l.ID), 0)
		if err != nil {
			return nil, fmt.Errorf("count members of %s: %w", l.ID, err)
		}
		l.Members = len(members)
		out = append(out, l)
	}
	return out, nil
}

// MailingListMembers returns the contacts of a list in the order they
// were created.
func (s *Service) MailingListMembers(ctx context.Context, dir, listID string) ([]*Contact, error) {
	d, err := s.dir(dir)
	if err != nil {
		return nil, err
	}
	if !validID("ML_", listID) {
		return nil, fmt.Errorf("mailing list %q: %w", listID, ErrNotFound)
	}
	if _, err := s.kv.Get(ctx, listKey(d, listID)); errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("mailing list %s of %s: %w", listID, dir, ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("read mailing list %s: %w", listID, err)
	}
	kvs, err := s.kv.List(ctx, memberPrefix(d, listID), 0)
	if err != nil {
		return nil, fmt.Errorf("list members of %s: %w", listID, err)
	}
	out := make([]*Contact, 0, len(kvs))
	for _, p := range kvs {
		c, err := s.loadContact(ctx, d, strings.TrimPrefix(p.Key, memberPrefix(d, listID)))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// ListRef names a mailing list a contact belongs to.
type ListRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// contactLists returns the lists a contact belongs to.
func (s *Service) contactLists(ctx context.Context, d *dirConf, cid string) ([]ListRef, error) {
	kvs, err := s.kv.List(ctx, contactListsPrefix(d, cid), 0)
	if err != nil {
		return nil, fmt.Errorf("list mailing lists of %s: %w", cid, err)
	}
	out := make([]ListRef, 0, len(kvs))
	for _, p := range kvs {
		var l MailingList
		err := s.getJSON(ctx, listKey(d, strings.TrimPrefix(p.Key, contactListsPrefix(d, cid))), &l)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read mailing list: %w", err)
		}
		out = append(out, ListRef{ID: l.ID, Name: l.Name})
	}
	return out, nil
}
