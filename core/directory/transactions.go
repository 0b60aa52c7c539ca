package directory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/store"
)

// Transaction is one dated record of a contact (a purchase, a case): data
// the contact may have many of, unlike embedded data.
type Transaction struct {
	ID        string         `json:"id"`
	ContactID string         `json:"contactId"`
	Date      time.Time      `json:"date"`
	Data      map[string]any `json:"data"` // values: string, json.Number, bool
	CreatedAt time.Time      `json:"createdAt"`
}

// TxInput is a transaction to add. A zero Date means now. Data values must
// be strings, numbers or booleans; nil values are skipped.
type TxInput struct {
	Date time.Time
	Data map[string]any
}

// dateLayout is fixed-width in UTC, so keys sort by time.
const dateLayout = "2006-01-02T15:04:05.000000000Z"

func txPrefix(d *dirConf, cid string) string { return d.key("tx/" + cid + "/") }

// AddTransaction adds a transaction to the contact the dedup rules match,
// creating the contact first when none does. A retry with the same
// idempotency key returns the first call's result and adds nothing: the
// transaction and the key's result are committed together.
func (s *Service) AddTransaction(ctx context.Context, dir string, in ContactInput, tx TxInput, idempotencyKey string) (Result, error) {
	d, err := s.dir(dir)
	if err != nil {
		return Result{}, err
	}
	data, err := cleanScalars("data", tx.Data)
	if err != nil {
		return Result{}, err
	}
	if len(data) > maxEmbeddedLen {
		return Result{}, inputErrorf("data: %d keys, more than %d", len(data), maxEmbeddedLen)
	}
	date := tx.Date
	if date.IsZero() {
		date = s.now()
	}
	date = date.UTC()
	if y := date.Year(); y < 1 || y > 9999 {
		return Result{}, inputErrorf("transaction date %s: year outside 1 to 9999", date.Format(time.RFC3339))
	}
	return s.once(ctx, d, idempotencyKey, func(save saveFunc) (Result, error) {
		var r Result
		_, _, err := s.upsert(ctx, d, in, func(_ context.Context, c *Contact, created bool) ([]store.KVWrite, error) {
			t := Transaction{ID: newID("TX_"), ContactID: c.ID, Date: date, Data: data, CreatedAt: s.now().UTC()}
			r = Result{ContactID: c.ID, Created: created, TransactionID: t.ID}
			w := store.KVWrite{Key: txPrefix(d, c.ID) + date.Format(dateLayout) + "/" + t.ID, Value: mustJSON(&t)}
			return append([]store.KVWrite{w}, save(r)...), nil
		})
		return r, err
	})
}

// Transactions returns a contact's transactions by date, then ID.
func (s *Service) Transactions(ctx context.Context, contactID string) ([]Transaction, error) {
	c, err := s.Contact(ctx, contactID)
	if err != nil {
		return nil, err
	}
	return s.transactions(ctx, s.set.Load().conf(c.DirectoryID), c.ID)
}

func (s *Service) transactions(ctx context.Context, d *dirConf, cid string) ([]Transaction, error) {
	kvs, err := s.kv.List(ctx, txPrefix(d, cid), 0)
	if err != nil {
		return nil, fmt.Errorf("list transactions of %s: %w", cid, err)
	}
	out := make([]Transaction, 0, len(kvs))
	for _, p := range kvs {
		var t Transaction
		if err := decodeJSON(p.Value, &t); err != nil {
			return nil, fmt.Errorf("decode transaction %s: %w", strings.TrimPrefix(p.Key, txPrefix(d, cid)), err)
		}
		if t.Data == nil {
			t.Data = map[string]any{}
		}
		out = append(out, t)
	}
	return out, nil
}
