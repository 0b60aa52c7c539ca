package console

import (
	"context"
	"encoding/json"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// The console reads a few parts of the hub through the small interfaces in
// this file, so that it does not depend on how (or whether yet) those parts
// are built. Each is optional: a nil interface in Options makes its section
// say "not available yet" instead of failing. An implementation reports "no
// such thing" by returning an error that wraps store.ErrNotFound (or a nil
// result with a nil error); the console then answers 404.

// Stats gives the data overview of connections: how much a connection has
// received or fetched, per entity and per field.
type Stats interface {
	// ConnectionStats summarises one connection.
	ConnectionStats(ctx context.Context, connection string) (*ConnectionStats, error)
	// EntityStats describes one entity of a connection: its fields (the
	// metadata table) and its latest records.
	EntityStats(ctx context.Context, connection, entity string) (*EntityStats, error)
	// FieldStats profiles one field of an entity.
	FieldStats(ctx context.Context, connection, entity, field string) (*FieldStats, error)
}

// ConnectionStats is a connection's data overview card.
type ConnectionStats struct {
	// ConnectedAt is when the connection was first configured or last
	// reconnected; zero when unknown.
	ConnectedAt time.Time `json:"connectedAt,omitzero"`
	// LastRecordAt is when the newest record arrived; zero when none has.
	LastRecordAt time.Time `json:"lastRecordAt,omitzero"`
	// TotalRecords counts every record (event) of the connection.
	TotalRecords int64 `json:"totalRecords"`
	// Entities lists the entities with their record counts.
	Entities []EntityCount `json:"entities"`
	// Quality is the share of cells (field × record), from 0 to 1, that
	// hold a value rather than a null; nil when nothing was recorded yet.
	Quality *float64 `json:"quality,omitempty"`
	// PerDay counts records per day for the last days (7 for the card),
	// oldest first; Day is the start of the day in the org time zone.
	PerDay []DayCount `json:"perDay"`
}

// EntityCount is one entity of a connection and how many records it has.
type EntityCount struct {
	Name    string `json:"name"`
	Records int64  `json:"records"`
}

// DayCount is the number of records of one day.
type DayCount struct {
	Day     time.Time `json:"day"`
	Records int64     `json:"records"`
}

// EntityStats is one entity's page: the metadata table and latest records.
type EntityStats struct {
	Name        string            `json:"name"`
	DisplayName string            `json:"displayName,omitempty"`
	Records     int64             `json:"records"`
	Fields      []pluginsdk.Field `json:"fields"`
	// Latest holds the newest records (JSON objects), newest first; the
	// console shows up to 20.
	Latest []json.RawMessage `json:"latest"`
}

// FieldStats profiles one field over an entity's records.
type FieldStats struct {
	Field pluginsdk.Field `json:"field"`
	// Rows is the number of records of the entity.
	Rows int64 `json:"rows"`
	// Values is the number of records where the field is present and not
	// empty.
	Values int64 `json:"values"`
	// Distinct is the number of distinct values; 0 when unknown.
	Distinct int64 `json:"distinct,omitempty"`
	// Top lists the most frequent values, most frequent first.
	Top []ValueCount `json:"top"`
}

// ValueCount is one value of a field and how often it occurs.
type ValueCount struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// Operations are the connection buttons of the data overview. Each starts
// the work and returns once it is started (or done, when quick); the
// console shows the returned message, or the error.
type Operations interface {
	// Fetch starts fetching records of a pull connection now.
	Fetch(ctx context.Context, connection string) (string, error)
	// FetchMetadata refreshes a connection's entities and fields.
	FetchMetadata(ctx context.Context, connection string) (string, error)
	// Reconnect drops and re-establishes the connection with its current
	// configuration and credentials.
	Reconnect(ctx context.Context, connection string) (string, error)
}

// Plugins lists the installed connector plugins (the plugin registry).
// Builtin connectors are listed by the console itself.
type Plugins interface {
	List(ctx context.Context) ([]PluginInfo, error)
}

// PluginInfo is one installed plugin.
type PluginInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Kind is how it runs: "wasm" or "goplugin".
	Kind        string `json:"kind"`
	Description string `json:"description,omitempty"`
	// Capabilities are its roles and actions, e.g. "receive", "fetch",
	// "perform: upsert_lead".
	Capabilities []string  `json:"capabilities"`
	SHA256       string    `json:"sha256,omitempty"`
	Signed       bool      `json:"signed,omitempty"`
	InstalledAt  time.Time `json:"installedAt,omitzero"`
	// Signer is the trusted key that verified the signature.
	Signer string `json:"signer,omitempty"`
	// Source and SourceDigest say where a plugin pulled from an OCI
	// registry (or a saved layout file) came from.
	Source       string `json:"source,omitempty"`
	SourceDigest string `json:"sourceDigest,omitempty"`
}

// Directory searches the contact directory.
type Directory interface {
	// FindContacts returns the contacts of the directory that match every
	// non-empty field of q, at most 50.
	FindContacts(ctx context.Context, directory string, q ContactQuery) ([]Contact, error)
	// Contact returns one contact with its transactions and distributions.
	Contact(ctx context.Context, id string) (*ContactDetail, error)
}

// ContactQuery selects contacts.
type ContactQuery struct {
	Email  string
	ExtRef string
	Phone  string
}

// Contact is one directory contact.
type Contact struct {
	ID        string         `json:"id"`
	Directory string         `json:"directory"`
	Email     string         `json:"email,omitempty"`
	Phone     string         `json:"phone,omitempty"`
	ExtRef    string         `json:"extRef,omitempty"`
	FirstName string         `json:"firstName,omitempty"`
	LastName  string         `json:"lastName,omitempty"`
	Language  string         `json:"language,omitempty"`
	Embedded  map[string]any `json:"embedded,omitempty"`
	CreatedAt time.Time      `json:"createdAt,omitzero"`
	UpdatedAt time.Time      `json:"updatedAt,omitzero"`
}

// ContactDetail is a contact with its history.
type ContactDetail struct {
	Contact
	Transactions  []Transaction  `json:"transactions"`
	Distributions []Distribution `json:"distributions"`
	// MailingLists names the lists the contact is on.
	MailingLists []string `json:"mailingLists,omitempty"`
}

// Transaction is one transaction recorded on a contact.
type Transaction struct {
	ID   string         `json:"id"`
	Date time.Time      `json:"date"`
	Data map[string]any `json:"data"`
}

// Distribution is one survey invitation sent (or to be sent) to a contact.
type Distribution struct {
	ID     string `json:"id"`
	Survey string `json:"survey"`
	Method string `json:"method"` // email, sms, sms_two_way
	// Status is e.g. queued, sent, failed, bounced, responded.
	Status string    `json:"status"`
	Error  string    `json:"error,omitempty"`
	SentAt time.Time `json:"sentAt,omitzero"`
	RunID  string    `json:"runId,omitempty"`
}
