package directory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// Distribution methods.
const (
	MethodEmail     = "email"
	MethodSMS       = "sms"
	MethodSMSTwoWay = "sms_two_way"
)

// Distribution statuses.
const (
	StatusQueued   = "queued"
	StatusSent     = "sent"
	StatusFailed   = "failed"
	StatusAnswered = "answered"
)

// Methods and Statuses list the values a Distribution may take.
var (
	Methods  = []string{MethodEmail, MethodSMS, MethodSMSTwoWay}
	Statuses = []string{StatusQueued, StatusSent, StatusFailed, StatusAnswered}
)

// maxAnswers bounds the replies kept on one distribution.
const maxAnswers = 1000

// Distribution is one survey invitation sent to one contact.
type Distribution struct {
	ID                string `json:"id"`
	DirectoryID       string `json:"directoryId"`
	ContactID         string `json:"contactId"`
	SurveyID          string `json:"surveyId"`
	Method            string `json:"method"`
	Status            string `json:"status"`
	ProviderMessageID string `json:"providerMessageId,omitempty"`
	Error             string `json:"error,omitempty"`
	Link              string `json:"link,omitempty"`
	// RunID is the workflow run that created it, when one did.
	RunID     string    `json:"runId,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	// SentAt is when its status first became sent.
	SentAt    time.Time `json:"sentAt,omitzero"`
	UpdatedAt time.Time `json:"updatedAt"`
	Answers   []Answer  `json:"answers"`
}

// Answer is one reply to a distribution (a two-way SMS message).
type Answer struct {
	At   time.Time `json:"at"`
	Body string    `json:"body"`
}

// DistributionInput is a distribution to create (status queued).
type DistributionInput struct {
	ContactID, SurveyID, Method, Link string
	// RunID is the workflow run creating it (optional).
	RunID string
	// IdempotencyKey, when set, makes a retry return the distribution the
	// first call created rather than a second one.
	IdempotencyKey string
}

// DistributionUpdate changes a distribution; empty fields are left as they
// are.
type DistributionUpdate struct {
	Status, ProviderMessageID, Error, Link string
}

func distKey(id string) string { return "dist/" + id }
func distMsgKey(msgID string) string {
	return "dist-msg/" + url.PathEscape(msgID)
}
func contactDistPrefix(d *dirConf, cid string) string { return d.key("cd/" + cid + "/") }

// CreateDistribution records a queued distribution of a survey to a
// contact. It reports whether it created one (false: the idempotency key's
// earlier distribution is returned).
func (s *Service) CreateDistribution(ctx context.Context, in DistributionInput) (*Distribution, bool, error) {
	if !slices.Contains(Methods, in.Method) {
		return nil, false, inputErrorf("distribution method %q: want one of %s", in.Method, strings.Join(Methods, ", "))
	}
	if strings.TrimSpace(in.SurveyID) == "" {
		return nil, false, inputErrorf("distribution: survey is required")
	}
	c, err := s.Contact(ctx, in.ContactID)
	if err != nil {
		return nil, false, err
	}
	d := s.set.Load().conf(c.DirectoryID)
	did := ""
	if in.IdempotencyKey != "" {
		ik := "dist-idem/" + url.PathEscape(in.IdempotencyKey)
		unlock := s.locks.lock("idem/" + ik)
		defer unlock()
		for range maxResolve {
			v, err := s.kv.Get(ctx, ik)
			if err == nil {
				did = string(v)
				break
			}
			if !errors.Is(err, store.ErrNotFound) {
				return nil, false, fmt.Errorf("read distribution idempotency key: %w", err)
			}
			id := newID("DIST_")
			if ok, err := s.kv.SetNX(ctx, ik, []byte(id), IdempotencyTTL); err != nil {
				return nil, false, fmt.Errorf("claim distribution idempotency key: %w", err)
			} else if ok {
				did = id
				break
			}
		}
		if did == "" {
			return nil, false, fmt.Errorf("create distribution: idempotency key kept changing")
		}
		// The key may name a distribution whose record a crash kept from
		// being written; then it is created below with that ID.
		if dist, err := s.Distribution(ctx, did); err == nil {
			return dist, false, nil
		} else if !errors.Is(err, ErrNotFound) {
			return nil, false, err
		}
	} else {
		did = newID("DIST_")
	}
	now := s.now().UTC()
	dist := &Distribution{
		ID: did, DirectoryID: d.id, ContactID: c.ID, SurveyID: strings.TrimSpace(in.SurveyID), Method: in.Method,
		Status: StatusQueued, Link: in.Link, RunID: in.RunID, CreatedAt: now, UpdatedAt: now, Answers: []Answer{},
	}
	err = s.write(ctx, []store.KVWrite{
		{Key: distKey(did), Value: mustJSON(dist)},
		{Key: contactDistPrefix(d, c.ID) + did, Value: []byte{}},
	})
	if err != nil {
		return nil, false, fmt.Errorf("save distribution %s: %w", did, err)
	}
	return dist, true, nil
}

// Distribution returns one distribution.
func (s *Service) Distribution(ctx context.Context, id string) (*Distribution, error) {
	if !validID("DIST_", id) {
		return nil, fmt.Errorf("distribution %q: %w", id, ErrNotFound)
	}
	var dist Distribution
	if err := s.getJSON(ctx, distKey(id), &dist); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("distribution %s: %w", id, ErrNotFound)
		}
		return nil, fmt.Errorf("read distribution %s: %w", id, err)
	}
	if dist.Answers == nil {
		dist.Answers = []Answer{}
	}
	return &dist, nil
}

// UpdateDistribution sets the given fields of a distribution: its status
// after sending, the provider's message ID (indexed for
// DistributionByProviderMessageID), an error.
func (s *Service) UpdateDistribution(ctx context.Context, id string, u DistributionUpdate) (*Distribution, error) {
	if u.Status != "" && !slices.Contains(Statuses, u.Status) {
		return nil, inputErrorf("distribution status %q: want one of %s", u.Status, strings.Join(Statuses, ", "))
	}
	return s.changeDistribution(ctx, id, func(d *Distribution) {
		if u.Status == StatusSent && d.SentAt.IsZero() {
			d.SentAt = s.now().UTC()
		}
		for _, f := range []struct {
			dst *string
			v   string
		}{
			{&d.Status, u.Status}, {&d.ProviderMessageID, u.ProviderMessageID}, {&d.Error, u.Error}, {&d.Link, u.Link},
		} {
			if f.v != "" {
				*f.dst = f.v
			}
		}
	})
}

// RecordAnswer appends a reply to a distribution and marks it answered.
func (s *Service) RecordAnswer(ctx context.Context, id string, at time.Time, body string) (*Distribution, error) {
	if len(body) > maxValueLen {
		return nil, inputErrorf("answer of %d bytes: longer than %d", len(body), maxValueLen)
	}
	if at.IsZero() {
		at = s.now()
	}
	var full bool
	d, err := s.changeDistribution(ctx, id, func(d *Distribution) {
		if full = len(d.Answers) >= maxAnswers; full {
			return
		}
		d.Answers = append(d.Answers, Answer{At: at.UTC(), Body: body})
		d.Status = StatusAnswered
	})
	if err == nil && full {
		return nil, inputErrorf("distribution %s already has %d answers", id, maxAnswers)
	}
	return d, err
}

// changeDistribution applies change under the distribution's lock and saves
// it with its provider message index.
func (s *Service) changeDistribution(ctx context.Context, id string, change func(*Distribution)) (*Distribution, error) {
	unlock := s.locks.lock("dist/" + id)
	defer unlock()
	dist, err := s.Distribution(ctx, id)
	if err != nil {
		return nil, err
	}
	oldMsg := dist.ProviderMessageID
	change(dist)
	dist.UpdatedAt = s.now().UTC()
	w := []store.KVWrite{{Key: distKey(id), Value: mustJSON(dist)}}
	if dist.ProviderMessageID != oldMsg {
		if oldMsg != "" {
			w = append(w, store.KVWrite{Key: distMsgKey(oldMsg)})
		}
		w = append(w, store.KVWrite{Key: distMsgKey(dist.ProviderMessageID), Value: []byte(id)})
	}
	if err := s.write(ctx, w); err != nil {
		return nil, fmt.Errorf("save distribution %s: %w", id, err)
	}
	return dist, nil
}

// DistributionByProviderMessageID finds the distribution a provider's
// message (an SMS sid, an email Message-ID) belongs to.
func (s *Service) DistributionByProviderMessageID(ctx context.Context, msgID string) (*Distribution, error) {
	if msgID == "" {
		return nil, fmt.Errorf("distribution with empty provider message id: %w", ErrNotFound)
	}
	v, err := s.kv.Get(ctx, distMsgKey(msgID))
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("distribution with provider message id %q: %w", msgID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("find distribution by provider message id %q: %w", msgID, err)
	}
	return s.Distribution(ctx, string(v))
}

// DistributionByPhone finds the distribution a two-way SMS reply from phone
// answers: the newest sms_two_way distribution, sent or already answered,
// to a contact with that phone in any directory.
func (s *Service) DistributionByPhone(ctx context.Context, phone string) (*Distribution, error) {
	norm := normalizePhone(phone)
	if strings.TrimPrefix(norm, "+") == "" {
		return nil, inputErrorf("phone %q has no digits", phone)
	}
	var best *Distribution
	ds := s.set.Load()
	for _, dirID := range ds.order {
		d := ds.dirs[dirID]
		kvs, err := s.kv.List(ctx, lookupPrefix(d, "phone", norm), 0)
		if err != nil {
			return nil, fmt.Errorf("find contacts by phone in %s: %w", dirID, err)
		}
		for _, p := range kvs {
			cid := strings.TrimPrefix(p.Key, lookupPrefix(d, "phone", norm))
			dists, err := s.distributions(ctx, d, cid)
			if err != nil {
				return nil, err
			}
			for _, dist := range dists {
				open := dist.Status == StatusSent || dist.Status == StatusAnswered
				if dist.Method == MethodSMSTwoWay && open && (best == nil || dist.ID > best.ID) {
					best = dist
				}
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("two-way SMS distribution to %s: %w", norm, ErrNotFound)
	}
	return best, nil
}

// Distributions returns a contact's distributions, oldest first.
func (s *Service) Distributions(ctx context.Context, contactID string) ([]*Distribution, error) {
	c, err := s.Contact(ctx, contactID)
	if err != nil {
		return nil, err
	}
	return s.distributions(ctx, s.set.Load().conf(c.DirectoryID), c.ID)
}

func (s *Service) distributions(ctx context.Context, d *dirConf, cid string) ([]*Distribution, error) {
	kvs, err := s.kv.List(ctx, contactDistPrefix(d, cid), 0)
	if err != nil {
		return nil, fmt.Errorf("list distributions of %s: %w", cid, err)
	}
	out := make([]*Distribution, 0, len(kvs))
	for _, p := range kvs {
		dist, err := s.Distribution(ctx, strings.TrimPrefix(p.Key, contactDistPrefix(d, cid)))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, dist)
	}
	return out, nil
}
