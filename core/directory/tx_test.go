package directory

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestTransactionsAreListedInTimeOrder(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	clk := newClock(s)
	day := func(d int) time.Time { return time.Date(2026, 1, d, 12, 0, 0, 0, time.FixedZone("CET", 3600)) }
	contact := ContactInput{Email: "ann@example.com"}
	first, err := s.AddTransaction(ctx, "POOL_t", contact, TxInput{Date: day(3), Data: map[string]any{"n": 3}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !first.Created || first.TransactionID == "" {
		t.Errorf("first transaction of an unknown contact: %+v, want the contact created", first)
	}
	// Same date twice: ordered by ID (creation) after the date.
	for _, d := range []int{1, 2, 1} {
		r, err := s.AddTransaction(ctx, "POOL_t", contact, TxInput{Date: day(d), Data: map[string]any{"n": d}}, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Created || r.ContactID != first.ContactID {
			t.Errorf("transaction for a known contact: %+v, want contact %s not created", r, first.ContactID)
		}
	}
	// No date: now.
	if _, err := s.AddTransaction(ctx, "POOL_t", contact, TxInput{Data: map[string]any{"n": "now"}}, ""); err != nil {
		t.Fatal(err)
	}
	txs, err := s.Transactions(ctx, first.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, tx := range txs {
		got = append(got, fmt.Sprint(tx.Data["n"]))
		if i > 0 && (tx.Date.Before(txs[i-1].Date) || tx.Date.Equal(txs[i-1].Date) && tx.ID < txs[i-1].ID) {
			t.Errorf("transaction %d (%s %s) sorts before %d", i, tx.Date, tx.ID, i-1)
		}
		if tx.ContactID != first.ContactID || tx.Date.Location() != time.UTC {
			t.Errorf("transaction %d: contact %s, date %s; want %s and UTC", i, tx.ContactID, tx.Date, first.ContactID)
		}
	}
	if want := []string{"1", "1", "2", "3", "now"}; !reflect.DeepEqual(got, want) {
		t.Errorf("transaction order %v, want %v", got, want)
	}
	if !txs[4].Date.Equal(clk.now()) {
		t.Errorf("undated transaction dated %s, want now (%s)", txs[4].Date, clk.now())
	}
}

// TestAddTransactionIsIdempotent: retries of one task, one after another or
// at once, add one transaction and report the first call's result.
func TestAddTransactionIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	in := ContactInput{Email: "ann@example.com"}
	tx := TxInput{Data: map[string]any{"amount": 12.5}}
	first, err := s.AddTransaction(ctx, "POOL_t", in, tx, "run_1/save-transaction")
	if err != nil {
		t.Fatal(err)
	}
	const retries = 20
	results := make([]Result, retries)
	var wg sync.WaitGroup
	for i := range retries {
		wg.Go(func() {
			r, err := s.AddTransaction(ctx, "POOL_t", in, tx, "run_1/save-transaction")
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	for i, r := range results {
		if r != first {
			t.Errorf("retry %d = %+v, want the first result %+v", i, r, first)
		}
	}
	// Concurrent first attempts of another key: still one transaction.
	for i := range retries {
		wg.Go(func() {
			results[i], _ = s.AddTransaction(ctx, "POOL_t", in, tx, "run_2/save-transaction")
		})
	}
	wg.Wait()
	for i, r := range results {
		if r != results[0] || r.TransactionID == first.TransactionID {
			t.Errorf("run_2 attempt %d = %+v, want all equal to %+v and a new transaction", i, r, results[0])
		}
	}
	txs, err := s.Transactions(ctx, first.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 2 {
		t.Fatalf("%d transactions, want 2 (one per idempotency key)", len(txs))
	}
	if txs[0].Data["amount"] != json.Number("12.5") {
		t.Errorf("amount = %#v", txs[0].Data["amount"])
	}
}

func TestUpsertOnceKeepsTheFirstResult(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	in := ContactInput{Email: "ann@example.com", Embedded: map[string]any{"a": 1}}
	first, err := s.UpsertOnce(ctx, "POOL_t", in, "run_1/upsert")
	if err != nil || !first.Created {
		t.Fatalf("first = %+v, %v", first, err)
	}
	retry, err := s.UpsertOnce(ctx, "POOL_t", in, "run_1/upsert")
	if err != nil || retry != first {
		t.Errorf("retry = %+v, %v; want %+v", retry, err, first)
	}
	other, err := s.UpsertOnce(ctx, "POOL_t", in, "run_2/upsert")
	if err != nil || other.Created || other.ContactID != first.ContactID {
		t.Errorf("another run = %+v, %v; want contact %s, not created", other, err, first.ContactID)
	}
}

func TestAddTransactionValidatesData(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t, dirCfg("POOL_t"))
	in := ContactInput{Email: "ann@example.com"}
	_, err := s.AddTransaction(ctx, "POOL_t", in, TxInput{Data: map[string]any{"items": []any{1, 2}}}, "")
	wantErr(t, err, "data.items: want a string, number or boolean, got a list")
	wantPermanent(t, err)
	_, err = s.AddTransaction(ctx, "POOL_t", in, TxInput{Date: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, "")
	wantErr(t, err, "year outside 1 to 9999")
	_, err = s.AddTransaction(ctx, "POOL_t", ContactInput{Phone: "+1555"}, TxInput{}, "")
	wantErr(t, err, "contact has none of the directory's dedup fields: email")
	if n := count(t, s, "POOL_t"); n != 0 {
		t.Errorf("%d contacts after refused transactions, want 0", n)
	}
}
