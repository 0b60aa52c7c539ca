package directory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// Several nodes sharing one store (a cluster on JetStream) each run a
// Service, and the in-process locks of one do not reach the others. Two
// things then need the store to arbitrate:
//
//   - A new contact takes every one of its dedup claims through KV.SetNX
//     before it is written (claimAll), not only the first: losing any of
//     them means another node is creating or has created this person, so
//     the ones taken are given back by CompareAndSwap (only while they
//     still name this contact) and the upsert resolves again. This closes
//     the gap of two inputs that reach one person through different rules
//     at the same instant.
//   - The read-modify-write of one contact (apply) holds a store lock,
//     "dir/<d>/lk/<cid>", taken by SetNX with a TTL and given back by
//     CompareAndSwap, so two nodes updating one contact cannot lose each
//     other's embedded data, and of two nodes that resolved the same new
//     claim only the first creates the record.
//
// Badger is opened by one process at a time, so on it the in-process locks
// already cover every writer and the store lock is skipped.

// lockTTL bounds how long a contact stays locked after its holder died.
const lockTTL = 30 * time.Second

// lockWait bounds how long apply waits for a contact another node holds.
const lockWait = 20 * time.Second

// sharedStore reports whether other processes may write st.
func sharedStore(st store.Store) bool { return !store.IsSingleProcess(st) }

// lockContact takes the store lock of contact cid (a no-op on a store
// only this process writes) and returns its release.
func (s *Service) lockContact(ctx context.Context, d *dirConf, cid string) (func(), error) {
	if !s.shared {
		return func() {}, nil
	}
	key := d.key("lk/" + cid)
	nonce := make([]byte, 8)
	_, _ = rand.Read(nonce)
	val := []byte(hex.EncodeToString(nonce))
	wctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		ok, err := s.kv.SetNX(wctx, key, val, lockTTL)
		if err != nil {
			return nil, fmt.Errorf("lock contact %s: %w", cid, err)
		}
		if ok {
			break
		}
		select {
		case <-wctx.Done():
			return nil, fmt.Errorf("lock contact %s: held by another node: %w", cid, wctx.Err())
		case <-time.After(pause):
		}
	}
	return func() {
		// A lock not given back expires after lockTTL.
		_, _ = s.kv.CompareAndSwap(context.WithoutCancel(ctx), key, val, nil, 0)
	}, nil
}

// claimAll claims every dedup key of a new contact cid. It reports false,
// with nothing claimed, when another contact holds any of them.
func (s *Service) claimAll(ctx context.Context, d *dirConf, claims []claim, cid string) (bool, error) {
	var taken []claim
	giveBack := func() error {
		var errs []error
		for _, cl := range taken {
			if _, err := s.kv.CompareAndSwap(context.WithoutCancel(ctx), cl.key, []byte(cid), nil, 0); err != nil {
				errs = append(errs, fmt.Errorf("give back claim %s: %w", cl.rule, err))
			}
		}
		return errors.Join(errs...)
	}
	for _, cl := range claims {
		ok, err := s.kv.SetNX(ctx, cl.key, []byte(cid), 0)
		if err != nil {
			return false, errors.Join(fmt.Errorf("claim %s for a new contact in %s: %w", cl.rule, d.id, err), giveBack())
		}
		if !ok {
			return false, giveBack()
		}
		taken = append(taken, cl)
	}
	return true, nil
}
