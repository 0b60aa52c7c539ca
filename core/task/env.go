package task

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// Env is what a builtin task gets when the hub starts. The hub builds each
// service once and hands the same values to every task, so tasks that share
// a service (the directory tasks and survey.distribute share Contacts) share
// its state and locks. A task reads only what its Def.Needs lists (and the
// optional settings below); it never writes into Env.
type Env struct {
	// Logger is the hub's logger; nil discards.
	Logger *slog.Logger

	// Services: a task lists the ones it cannot run without in Def.Needs.

	// Events reads the durable event log (the store's Log).
	Events EventLog
	// Secrets keeps values encrypted at rest (the store's Secrets).
	Secrets Secrets
	// Contacts writes contacts of the configured directories.
	Contacts Contacts
	// Distributions keeps survey distributions and their answers.
	Distributions Distributions
	// Connections finds the hub's configured connections.
	Connections Connections

	// Settings and config objects: optional, each with the default it says.

	// Location is the organisation's time zone (settings timezone), for
	// dates written without one; nil means UTC.
	Location *time.Location
	// Surveys are the loaded kind: Survey objects; none is a valid
	// configuration.
	Surveys []*config.Survey
}

// EventLog is the part of the store's event log that tasks read.
type EventLog interface {
	// Get returns one event by ID (store.ErrNotFound when absent).
	Get(ctx context.Context, id string) (event.Event, error)
	// Read returns up to limit events with Seq > after, in order.
	Read(ctx context.Context, after uint64, limit int) ([]event.Event, error)
	// LastSeq is the sequence of the newest event (0 when empty).
	LastSeq() uint64
}

// Secrets reads and writes named secrets (store.ErrNotFound when absent).
type Secrets interface {
	Get(ctx context.Context, name string) ([]byte, error)
	Put(ctx context.Context, name string, value []byte) error
}

// Contacts writes contacts, deduplicated by their directory's rules (see
// core/directory).
type Contacts interface {
	Upsert(ctx context.Context, dir string, in directory.ContactInput) (*directory.Contact, bool, error)
	UpsertOnce(ctx context.Context, dir string, in directory.ContactInput, idempotencyKey string) (directory.Result, error)
	AddTransaction(ctx context.Context, dir string, in directory.ContactInput, tx directory.TxInput, idempotencyKey string) (directory.Result, error)
	AddToList(ctx context.Context, dir, list string, in directory.ContactInput) (directory.Result, error)
}

// Distributions keeps the survey invitations sent to contacts and the
// replies recorded on them (see core/directory).
type Distributions interface {
	CreateDistribution(ctx context.Context, in directory.DistributionInput) (*directory.Distribution, bool, error)
	UpdateDistribution(ctx context.Context, id string, u directory.DistributionUpdate) (*directory.Distribution, error)
	MarkDistributionSent(ctx context.Context, id, providerMessageID, link string) (*directory.Distribution, error)
	DistributionByPhone(ctx context.Context, phone string) (*directory.Distribution, error)
	RecordAnswer(ctx context.Context, id string, at time.Time, body string) (*directory.Distribution, error)
}

// Connection is a configured connection as a task sees it.
type Connection struct {
	// Name is the connection's name.
	Name string
	// Connector is the connector it is configured with (connector:).
	Connector string
	// Spec is what the connector declares: roles, actions, entities.
	Spec pluginsdk.Spec
	// Performer performs its actions; nil when the connector has none.
	Performer pluginsdk.Performer
}

// Connections finds the hub's configured connections. The hub's
// implementation reads the connection manager at each call, so a
// connection reopened with new credentials is the one a task gets.
type Connections interface {
	// Connection returns the connection of that name.
	Connection(name string) (Connection, bool)
	// Connections lists every connection, sorted by name.
	Connections() []Connection
}

// The hub's values satisfy the interfaces; a change of their methods shows
// here rather than in the hub.
var (
	_ EventLog      = store.Log(nil)
	_ Secrets       = store.Secrets(nil)
	_ Contacts      = (*directory.Service)(nil)
	_ Distributions = (*directory.Service)(nil)
)

// Service names a service field of Env, for Def.Needs.
type Service string

// The services of Env.
const (
	NeedEvents        Service = "Events"
	NeedSecrets       Service = "Secrets"
	NeedContacts      Service = "Contacts"
	NeedDistributions Service = "Distributions"
	NeedConnections   Service = "Connections"
)

// serviceDocs says what each service is, for error messages; it is also
// the list of valid names.
var serviceDocs = map[Service]string{
	NeedEvents:        "the store's event log",
	NeedSecrets:       "the store's secrets",
	NeedContacts:      "the contact directory",
	NeedDistributions: "the survey distributions of the contact directory",
	NeedConnections:   "the hub's connections",
}

// provides reports whether env has a value for s.
func (e *Env) provides(s Service) bool {
	switch s {
	case NeedEvents:
		return e.Events != nil
	case NeedSecrets:
		return e.Secrets != nil
	case NeedContacts:
		return e.Contacts != nil
	case NeedDistributions:
		return e.Distributions != nil
	case NeedConnections:
		return e.Connections != nil
	}
	return false
}

// check returns an error naming the task and each service of needs that
// env lacks, so that a hub missing one fails at start-up, not at a run.
func (e *Env) check(id string, needs []Service) error {
	var missing []string
	for _, s := range needs {
		if !e.provides(s) {
			missing = append(missing, fmt.Sprintf("task.Env.%s (%s)", s, serviceDocs[s]))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("task %s needs %s, which the hub did not provide", id, strings.Join(missing, " and "))
}
