package directorytasks

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

func TestUpsertContactTask(t *testing.T) {
	env := newEnv(t, openStore(t))
	ex := tasks(t, env)["directory.upsert_contact"]
	with := `{"directory":"POOL_demo","contact":{"email":"Ann@Example.com","firstName":"Ann","lastName":"Lee","phone":"+39 06 1234",
		"extRef":"E1","language":"it","unsubscribed":"false"},"embedded":{"tier":"gold","visits":3,"vip":true,"gone":null}}`
	first := mustRun(t, ex, "run_1/contact", with)
	if !first.Created || !strings.HasPrefix(first.ContactID, "CID_") || first.TransactionID != "" {
		t.Errorf("first = %+v", first)
	}
	// A retry of the same task reports the same result.
	if again := mustRun(t, ex, "run_1/contact", with); again != first {
		t.Errorf("retry = %+v, want %+v", again, first)
	}
	second := mustRun(t, ex, "run_2/contact", `{"directory":"POOL_demo","contact":{"email":"ann@example.com","unsubscribed":true},"embedded":{"tier":"platinum"}}`)
	if second.Created || second.ContactID != first.ContactID {
		t.Errorf("second = %+v, want contact %s updated", second, first.ContactID)
	}
	svc := service(env)
	c, err := svc.Contact(context.Background(), first.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"tier": "platinum", "visits": json.Number("3"), "vip": true}
	if !reflect.DeepEqual(c.Embedded, want) || !c.Unsubscribed || c.FirstName != "Ann" || c.Language != "it" || c.Phone != "+39 06 1234" {
		t.Errorf("contact = %+v", c)
	}
	// The raw output has exactly the documented keys.
	out, err := ex.Execute(context.Background(), &task.Call{Input: json.RawMessage(with), IdempotencyKey: "run_1/contact"})
	if err != nil || string(out) != `{"contactId":"`+first.ContactID+`","created":true}` {
		t.Errorf("output = %s, %v", out, err)
	}
}

func TestUpsertContactAsTransaction(t *testing.T) {
	env := newEnv(t, openStore(t))
	ex := tasks(t, env)["directory.upsert_contact"]
	with := `{"directory":"POOL_demo","contact":{"email":"ann@example.com"},"as":"transaction",
		"embedded":{"case":"500xx1","status":"closed"},"date":"2026-02-20 17:45:00"}`
	r := mustRun(t, ex, "run_1/case", with)
	if r.TransactionID == "" || !r.Created {
		t.Fatalf("result = %+v, want a created contact and a transaction", r)
	}
	if again := mustRun(t, ex, "run_1/case", with); again != r {
		t.Errorf("retry = %+v, want %+v", again, r)
	}
	svc := service(env)
	d, err := svc.Get(context.Background(), r.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Embedded) != 0 {
		t.Errorf("as: transaction stored embedded data %v", d.Embedded)
	}
	if len(d.Transactions) != 1 {
		t.Fatalf("%d transactions, want 1", len(d.Transactions))
	}
	tx := d.Transactions[0]
	// A date without a zone is in the organisation's zone (Europe/Rome, UTC+1 in February).
	if !tx.Date.Equal(time.Date(2026, 2, 20, 16, 45, 0, 0, time.UTC)) || tx.Data["case"] != "500xx1" || tx.Data["status"] != "closed" {
		t.Errorf("transaction = %+v", tx)
	}
}

func TestAddTransactionTaskDatesFromTheEvent(t *testing.T) {
	st := openStore(t)
	env := newEnv(t, st)
	ex := tasks(t, env)["directory.add_transaction"]
	occurred := time.Date(2020, 1, 5, 8, 0, 0, 0, time.UTC)
	with := `{"directory":"POOL_demo","contact":{"email":"bob@example.com"},"data":{"amount":"12.50","sku":"A1"}}`
	r := mustRun(t, ex, "run_1/tx", with, func(c *task.Call) { c.Event = &event.Event{ID: "evt_x", OccurredAt: occurred} })
	if !r.Created || r.TransactionID == "" {
		t.Errorf("result = %+v", r)
	}
	// The engine may pass only the event's ID: the time comes from the log.
	res, err := st.Log().Append(context.Background(), []store.AppendRequest{{
		Connection: "shop", OccurredAt: occurred.Add(48 * time.Hour), Payload: json.RawMessage(`{}`),
	}})
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, ex, "run_2/tx", with, func(c *task.Call) { c.Event = &event.Event{ID: res[0].ID} })
	// No event (a test run): now.
	before := time.Now().Add(-time.Second)
	mustRun(t, ex, "run_3/tx", with)
	// An explicit Unix time wins over the event.
	mustRun(t, ex, "run_4/tx", `{"directory":"POOL_demo","contact":{"email":"bob@example.com"},"data":{},"date":1577836800}`,
		func(c *task.Call) { c.Event = &event.Event{OccurredAt: occurred} })

	svc := service(env)
	txs, err := svc.Transactions(context.Background(), r.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 4 {
		t.Fatalf("%d transactions, want 4", len(txs))
	}
	if !txs[0].Date.Equal(time.Unix(1577836800, 0)) || !txs[1].Date.Equal(occurred) || !txs[2].Date.Equal(occurred.Add(48*time.Hour)) || txs[3].Date.Before(before) {
		t.Errorf("dates %s %s %s %s", txs[0].Date, txs[1].Date, txs[2].Date, txs[3].Date)
	}
	if txs[1].Data["amount"] != "12.50" || txs[1].ID != r.TransactionID {
		t.Errorf("first transaction = %+v", txs[1])
	}
}

func TestAddToMailingListTask(t *testing.T) {
	env := newEnv(t, openStore(t))
	ex := tasks(t, env)["directory.add_to_mailing_list"]
	r := mustRun(t, ex, "run_1/list", `{"directory":"POOL_demo","list":"Newsletter","contact":{"firstName":"Ann","lastName":"Lee"}}`)
	if !r.Created || !strings.HasPrefix(r.ListID, "ML_") {
		t.Errorf("result = %+v", r)
	}
	again := mustRun(t, ex, "run_2/list", `{"directory":"POOL_demo","list":"Newsletter","contact":{"firstName":"ann","lastName":"LEE"}}`)
	if again.ContactID != r.ContactID || again.ListID != r.ListID || again.Created {
		t.Errorf("again = %+v, want %+v not created", again, r)
	}
}

func TestTaskInputErrors(t *testing.T) {
	env := newEnv(t, openStore(t))
	ex := tasks(t, env)
	const up, tx, ml = "directory.upsert_contact", "directory.add_transaction", "directory.add_to_mailing_list"
	tests := []struct {
		task, with, want string
	}{
		{up, `null`, "with: missing; want directory, contact, embedded, as, date, require"},
		{up, `[1]`, "with: want an object with directory, contact, embedded, as, date, require, got a list"},
		{up, `{"contact":{"email":"a@example.com"}}`, "with.directory: required (the name of a kind: Directory, e.g. POOL_demo)"},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"embeded":{}}`,
			`with: unknown key "embeded"; want directory, contact, embedded, as, date, require`},
		{up, `{"directory":"POOL_demo"}`, "with.contact: required; want an object with any of email, phone, extRef, firstName, lastName, language, unsubscribed"},
		{up, `{"directory":"POOL_demo","contact":"ann@example.com"}`, "with.contact: want an object, got a string"},
		{up, `{"directory":"POOL_demo","contact":{"mail":"a@example.com"}}`,
			`with.contact: unknown key "mail"; want email, phone, extRef, firstName, lastName, language, unsubscribed`},
		{up, `{"directory":"POOL_demo","contact":{"email":{"x":1}}}`, "with.contact.email: want a string, got an object"},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com","unsubscribed":"maybe"}}`,
			`with.contact.unsubscribed: want true or false, got "maybe"`},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"embedded":{"tier":{"x":1}}}`,
			"with.embedded.tier: want a string, number or boolean, got an object"},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"embedded":["x"]}`,
			"with.embedded: want an object of string, number or boolean values, got a list"},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"as":"json"}`,
			`with.as: "json"; want embedded (the default) or transaction`},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"date":"2026-01-01"}`, "with.date: only used with as: transaction"},
		{up, `{"directory":"POOL_x","contact":{"email":"a@example.com"}}`, `unknown directory "POOL_x" (configured: POOL_demo)`},
		{up, `{"directory":"POOL_demo","contact":{"phone":"+1555","firstName":"Ann"}}`,
			"contact has none of the directory's dedup fields: email, firstName+lastName"},
		{up, `{"directory":"POOL_demo","contact":{"email":"ann"}}`, `contact email "ann" is not an email address`},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com","lastName":""},"require":["firstName","lastName","email"]}`,
			"contact firstName, lastName are required but missing or empty (require: firstName, lastName, email)"},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com","firstName":"Ann","lastName":"  "},"require":["firstName","lastName","email"]}`,
			"contact lastName is required but missing or empty (require: firstName, lastName, email)"},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"require":["nickname"]}`,
			"with.require[0]: want one of email, phone, extRef, firstName, lastName, language, got nickname"},
		{up, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"require":"email"}`,
			"with.require: want a list of contact fields (email, phone, extRef, firstName, lastName, language), got a string"},
		{tx, `{"directory":"POOL_demo","contact":{"email":"a@example.com"}}`,
			"with.data: required; want an object of string, number or boolean values"},
		{tx, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"data":{"items":[1]}}`,
			"with.data.items: want a string, number or boolean, got a list"},
		{tx, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"data":{},"date":"yesterday"}`,
			`with.date: "yesterday" is not a time; want RFC 3339 (2026-03-01T09:30:00Z), 2026-03-01 09:30:00, 2026-03-01 or Unix seconds`},
		{tx, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"data":{},"date":1e300}`,
			"with.date: Unix time 1e300 is after the year 9999"},
		{tx, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"data":{},"date":true}`,
			"with.date: want a time string or Unix seconds, got a boolean"},
		{tx, `{"directory":"POOL_demo","contact":{"email":"a@example.com"},"data":{},"list":"x"}`,
			`with: unknown key "list"; want directory, contact, data, date, require`},
		{ml, `{"directory":"POOL_demo","contact":{"email":"a@example.com"}}`, "with.list: required (the mailing list's name)"},
		{ml, `{"directory":"POOL_demo","list":"  ","contact":{"email":"a@example.com"}}`, "with.list: required (the mailing list's name)"},
	}
	for _, tt := range tests {
		t.Run(tt.task+" "+tt.want, func(t *testing.T) {
			_, err := run(t, ex[tt.task], "run_e/t", tt.with)
			permanent(t, err, tt.want)
		})
	}
	svc := service(env)
	if n, _ := svc.Count(context.Background(), "POOL_demo"); n != 0 {
		t.Errorf("%d contacts stored by refused tasks, want 0", n)
	}
}

func TestStorageFailureIsRetryable(t *testing.T) {
	st := openStore(t)
	ex := tasks(t, newEnv(t, st))["directory.upsert_contact"]
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, ex, "run_1/t", `{"directory":"POOL_demo","contact":{"email":"a@example.com"}}`)
	if err == nil || !pluginsdk.IsRetryable(err) {
		t.Fatalf("error on a closed store = %v, want a retryable one", err)
	}
}

func TestTasksShareOneService(t *testing.T) {
	st := openStore(t)
	env := newEnv(t, st)
	for id, ex := range tasks(t, env) {
		if ex.(*executor).svc != env.Contacts {
			t.Errorf("%s built its own service", id)
		}
	}
	// The hub's own service is used as is.
	hubs := directory.New(st, nil)
	env.Contacts = hubs
	for id, ex := range tasks(t, env) {
		if ex.(*executor).svc != hubs {
			t.Errorf("%s ignored task.Env.Contacts", id)
		}
	}
}

// TestMissingServiceFailsAtStart: a hub that does not provide what a
// directory task needs cannot build it, and the error names both.
func TestMissingServiceFailsAtStart(t *testing.T) {
	tests := []struct {
		name string
		drop func(*task.Env)
		want string
	}{
		{"contacts", func(e *task.Env) { e.Contacts = nil }, "needs task.Env.Contacts (the contact directory), which the hub did not provide"},
		{"events", func(e *task.Env) { e.Events = nil }, "needs task.Env.Events (the store's event log), which the hub did not provide"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, id := range []string{"directory.upsert_contact", "directory.add_transaction", "directory.add_to_mailing_list"} {
				env := newEnv(t, openStore(t))
				tt.drop(env)
				d, _ := task.Lookup(id)
				ex, err := d.New(env)
				if err == nil || ex != nil {
					t.Fatalf("%s built without %s: %v", id, tt.name, ex)
				}
				if want := "task " + id + " " + tt.want; err.Error() != want {
					t.Errorf("error %q\nwant  %q", err, want)
				}
			}
		})
	}
}
