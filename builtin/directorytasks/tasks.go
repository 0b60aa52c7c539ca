// Package directorytasks registers the builtin tasks that write to the
// contact directory (kind: Directory, package core/directory):
// directory.upsert_contact, directory.add_transaction and
// directory.add_to_mailing_list. See README.md for their `with:` keys.
package directorytasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/junctionhub/junction/builtin/internal/taskinput"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// needs are the hub services every directory task uses: the contact
// directory, and the event log for the triggering event's time.
var needs = []task.Service{task.NeedContacts, task.NeedEvents}

func init() {
	task.Register(task.Def{
		ID:          "directory.upsert_contact",
		Needs:       needs,
		Description: "Create or update a contact (dedup by the directory's rules); embedded data, or a transaction with as: transaction",
		New:         newTask(upsertContact),
	})
	task.Register(task.Def{
		ID:          "directory.add_transaction",
		Needs:       needs,
		Description: "Add a transaction to a contact, creating the contact when none matches",
		New:         newTask(addTransaction),
	})
	task.Register(task.Def{
		ID:          "directory.add_to_mailing_list",
		Needs:       needs,
		Description: "Add a contact (created when none matches) to a mailing list, created on first use",
		New:         newTask(addToMailingList),
	})
}

// executor is one directory task with what it needs from the hub.
type executor struct {
	svc task.Contacts
	log task.EventLog  // to look up the triggering event's time
	loc *time.Location // the organisation's time zone, for dates without one
	run func(ctx context.Context, x *executor, c *task.Call) (directory.Result, error)
}

func newTask(run func(context.Context, *executor, *task.Call) (directory.Result, error)) func(*task.Env) (task.Executor, error) {
	return func(env *task.Env) (task.Executor, error) {
		loc := env.Location
		if loc == nil {
			loc = time.UTC
		}
		return &executor{svc: env.Contacts, log: env.Events, loc: loc, run: run}, nil
	}
}

// Execute implements task.Executor.
func (x *executor) Execute(ctx context.Context, c *task.Call) (json.RawMessage, error) {
	r, err := x.run(ctx, x, c)
	if err != nil {
		return nil, classify(err)
	}
	out, err := json.Marshal(r)
	if err != nil {
		return nil, pluginsdk.Errorf("encode result: %v", err)
	}
	return out, nil
}

// classify tells the engine whether to retry: bad input and unknown
// directories fail the run at once, storage trouble is retried.
func classify(err error) error {
	var pe *pluginsdk.Error
	switch {
	case errors.As(err, &pe):
		return pe
	case directory.IsPermanent(err):
		return pluginsdk.Errorf("%v", err)
	}
	return pluginsdk.Retryable("%v", err)
}

// target reads the keys every directory task has: directory and contact,
// with require checked.
func target(m map[string]any) (string, directory.ContactInput, error) {
	dir, err := taskinput.Required(m, "directory", "with.directory", " (the name of a kind: Directory, e.g. POOL_demo)")
	if err != nil {
		return "", directory.ContactInput{}, err
	}
	in, err := taskinput.Contact(m, taskinput.ContactKeys)
	if err != nil {
		return "", in, err
	}
	return dir, in, checkRequire(m, in)
}

// eventTime is a transaction's default date: when the triggering event
// happened, else when it arrived; zero (the directory's now) without one.
// A call may carry only the event's ID; then the log has the times.
func (x *executor) eventTime(ctx context.Context, c *task.Call) (time.Time, error) {
	ev := c.Event
	if ev == nil {
		return time.Time{}, nil
	}
	if ev.OccurredAt.IsZero() && ev.ReceivedAt.IsZero() && ev.ID != "" {
		stored, err := x.log.Get(ctx, ev.ID)
		if errors.Is(err, store.ErrNotFound) {
			return time.Time{}, nil
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("read the time of event %s: %w", ev.ID, err)
		}
		ev = &stored
	}
	if !ev.OccurredAt.IsZero() {
		return ev.OccurredAt, nil
	}
	return ev.ReceivedAt, nil
}

func upsertContact(ctx context.Context, x *executor, c *task.Call) (directory.Result, error) {
	m, err := object(c.Input, "directory", "contact", "embedded", "as", "date", "require")
	if err != nil {
		return directory.Result{}, err
	}
	dir, in, err := target(m)
	if err != nil {
		return directory.Result{}, err
	}
	emb, err := scalars(m, "embedded")
	if err != nil {
		return directory.Result{}, err
	}
	as, err := taskinput.String(m, "as", "with.as")
	if err != nil {
		return directory.Result{}, err
	}
	switch as {
	case "", "embedded":
		if _, ok := m["date"]; ok {
			return directory.Result{}, pluginsdk.Errorf("with.date: only used with as: transaction")
		}
		in.Embedded = emb
		return x.svc.UpsertOnce(ctx, dir, in, c.IdempotencyKey)
	case "transaction":
		return x.transaction(ctx, c, m, dir, in, emb)
	}
	return directory.Result{}, pluginsdk.Errorf("with.as: %q; want embedded (the default) or transaction", as)
}

func addTransaction(ctx context.Context, x *executor, c *task.Call) (directory.Result, error) {
	m, err := object(c.Input, "directory", "contact", "data", "date", "require")
	if err != nil {
		return directory.Result{}, err
	}
	dir, in, err := target(m)
	if err != nil {
		return directory.Result{}, err
	}
	if _, ok := m["data"]; !ok {
		return directory.Result{}, pluginsdk.Errorf("with.data: required; want an object of string, number or boolean values")
	}
	data, err := scalars(m, "data")
	if err != nil {
		return directory.Result{}, err
	}
	return x.transaction(ctx, c, m, dir, in, data)
}

func (x *executor) transaction(ctx context.Context, c *task.Call, m map[string]any, dir string, in directory.ContactInput, data map[string]any) (directory.Result, error) {
	when, err := date(m, x.loc)
	if err != nil {
		return directory.Result{}, err
	}
	if when.IsZero() {
		if when, err = x.eventTime(ctx, c); err != nil {
			return directory.Result{}, err
		}
	}
	return x.svc.AddTransaction(ctx, dir, in, directory.TxInput{Date: when, Data: data}, c.IdempotencyKey)
}

func addToMailingList(ctx context.Context, x *executor, c *task.Call) (directory.Result, error) {
	m, err := object(c.Input, "directory", "list", "contact", "require")
	if err != nil {
		return directory.Result{}, err
	}
	dir, in, err := target(m)
	if err != nil {
		return directory.Result{}, err
	}
	list, err := taskinput.Required(m, "list", "with.list", " (the mailing list's name)")
	if err != nil {
		return directory.Result{}, err
	}
	return x.svc.AddToList(ctx, dir, list, in)
}
