package directory

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

// ErrUnknownDirectory is returned for a directory that is not configured.
var ErrUnknownDirectory = errors.New("unknown directory")

// ErrNotFound is returned for a contact, list or distribution that does not
// exist. It is store.ErrNotFound, so a caller that checks for either
// matches.
var ErrNotFound = store.ErrNotFound

// InputError is a request the directory refuses as given (a missing dedup
// field, a malformed value): retrying it cannot succeed.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// IsPermanent reports whether err is one that a retry cannot fix: bad input
// or an unknown directory.
func IsPermanent(err error) bool {
	var ie *InputError
	return errors.As(err, &ie) || errors.Is(err, ErrUnknownDirectory)
}

// IdempotencyTTL is how long a task's result is kept for retries of the same
// idempotency key: far longer than any retry policy lasts.
const IdempotencyTTL = 30 * 24 * time.Hour

// Contact is one person in a directory.
type Contact struct {
	ID           string         `json:"id"`
	DirectoryID  string         `json:"directoryId"`
	FirstName    string         `json:"firstName"`
	LastName     string         `json:"lastName"`
	Email        string         `json:"email"`
	Phone        string         `json:"phone"`
	ExtRef       string         `json:"extRef"`
	Language     string         `json:"language"`
	Unsubscribed bool           `json:"unsubscribed"`
	Embedded     map[string]any `json:"embedded"` // values: string, json.Number, bool
	CreatedAt    time.Time      `json:"createdAt"`
	UpdatedAt    time.Time      `json:"updatedAt"`
}

// ContactInput is what an upsert knows about a person. Empty strings and a
// nil Unsubscribed are "not given": they neither match nor change anything.
// Embedded values must be strings, numbers or booleans; nil values are
// skipped, so a missing optional field never erases stored data.
type ContactInput struct {
	FirstName, LastName, Email, Phone, ExtRef, Language string
	Unsubscribed                                        *bool
	Embedded                                            map[string]any
}

// Result is what a task reports: the contact it touched, whether it was
// created, and the transaction or mailing list involved.
type Result struct {
	ContactID     string `json:"contactId"`
	Created       bool   `json:"created"`
	TransactionID string `json:"transactionId,omitempty"`
	ListID        string `json:"listId,omitempty"`
}

// DirectoryInfo describes a configured directory.
type DirectoryInfo struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Dedup       []string `json:"dedup"` // rules as written: "email", "firstName+lastName"
	Contacts    int      `json:"contacts"`
}

// dirConf is a configured directory with its rules resolved.
type dirConf struct {
	id, display string
	rules       [][]string
}

// Service is the contact directory. It is safe for concurrent use; create
// one per store and share it (its locks only protect callers of the same
// Service).
type Service struct {
	st    store.Store
	kv    store.KV
	set   atomic.Pointer[dirSet] // swapped whole by Replace
	locks keyLocks
	now   func() time.Time
	// shared: other processes write the store too (cluster.go).
	shared bool
}

// dirSet is the configured directories.
type dirSet struct {
	dirs  map[string]*dirConf
	order []string
}

// conf is directory id's configuration. A contact of a directory that a
// reload removed keeps its data; it is read with the default rules.
func (ds *dirSet) conf(id string) *dirConf {
	if d := ds.dirs[id]; d != nil {
		return d
	}
	return &dirConf{id: id, display: id, rules: [][]string{{"email"}}}
}

// New returns the directory service for the configured directories. A
// directory without dedup rules gets the default [[email]].
func New(st store.Store, dirs []*config.Directory) *Service {
	s := &Service{st: st, kv: st.KV(), now: time.Now, shared: sharedStore(st)}
	s.Replace(dirs)
	return s
}

// Replace installs a new set of directories (hot reload). Contacts are
// keyed by directory name, so a directory kept by name keeps its contacts;
// a removed one keeps its data, unlisted, until it is configured again.
func (s *Service) Replace(dirs []*config.Directory) {
	ds := &dirSet{dirs: map[string]*dirConf{}}
	for _, d := range dirs {
		if d == nil {
			continue
		}
		rules := d.Dedup
		if len(rules) == 0 {
			rules = [][]string{{"email"}}
		}
		ds.dirs[d.Name] = &dirConf{id: d.Name, display: d.DisplayName, rules: rules}
		ds.order = append(ds.order, d.Name)
	}
	sort.Strings(ds.order)
	s.set.Store(ds)
}

// Directories lists the configured directories by ID, with contact counts.
func (s *Service) Directories(ctx context.Context) ([]DirectoryInfo, error) {
	ds := s.set.Load()
	out := make([]DirectoryInfo, 0, len(ds.order))
	for _, id := range ds.order {
		d := ds.dirs[id]
		n, err := s.Count(ctx, id)
		if err != nil {
			return nil, err
		}
		rules := make([]string, len(d.rules))
		for i, r := range d.rules {
			rules[i] = strings.Join(r, "+")
		}
		out = append(out, DirectoryInfo{ID: id, DisplayName: d.display, Dedup: rules, Contacts: n})
	}
	return out, nil
}

// Count returns the number of contacts in a directory. It scans the
// directory's membership keys (empty values), so it costs a key scan, not a
// read of every contact.
func (s *Service) Count(ctx context.Context, dir string) (int, error) {
	d, err := s.dir(dir)
	if err != nil {
		return 0, err
	}
	kvs, err := s.kv.List(ctx, d.key("m/"), 0)
	if err != nil {
		return 0, fmt.Errorf("count contacts of %s: %w", dir, err)
	}
	return len(kvs), nil
}

func (s *Service) dir(id string) (*dirConf, error) {
	ds := s.set.Load()
	if d, ok := ds.dirs[id]; ok {
		return d, nil
	}
	if len(ds.order) == 0 {
		return nil, fmt.Errorf("%w %q: no Directory is configured", ErrUnknownDirectory, id)
	}
	return nil, fmt.Errorf("%w %q (configured: %s)", ErrUnknownDirectory, id, strings.Join(ds.order, ", "))
}

// key is a KV key inside the directory.
func (d *dirConf) key(rest string) string { return "dir/" + d.id + "/" + rest }

func contactKey(d *dirConf, cid string) string { return d.key("c/" + cid) }

// write commits KV writes atomically: all or none. The store's log commits
// KV writes given with no events as one transaction, the same group commit
// that events use.
func (s *Service) write(ctx context.Context, w []store.KVWrite) error {
	if len(w) == 0 {
		return nil
	}
	if _, err := s.st.Log().AppendWithKV(ctx, nil, w); err != nil {
		return fmt.Errorf("write %d directory keys: %w", len(w), err)
	}
	return nil
}

// getJSON reads a JSON value; numbers stay json.Number so that embedded
// data keeps its exact digits.
func (s *Service) getJSON(ctx context.Context, key string, v any) error {
	b, err := s.kv.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return decodeJSON(b, v)
}

func decodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only values validated by this package are marshalled: strings,
		// json.Number, bools, times. A failure is a bug here.
		panic(fmt.Sprintf("directory: marshal %T: %v", v, err))
	}
	return b
}

// Contact returns one contact by ID, without transactions.
func (s *Service) Contact(ctx context.Context, id string) (*Contact, error) {
	if !validID("CID_", id) {
		return nil, fmt.Errorf("contact %q: %w", id, ErrNotFound)
	}
	ds := s.set.Load()
	for _, dirID := range ds.order {
		c, err := s.loadContact(ctx, ds.dirs[dirID], id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		return c, err
	}
	return nil, fmt.Errorf("contact %s: %w", id, ErrNotFound)
}

func (s *Service) loadContact(ctx context.Context, d *dirConf, cid string) (*Contact, error) {
	var c Contact
	if err := s.getJSON(ctx, contactKey(d, cid), &c); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("read contact %s: %w", cid, err)
	}
	if c.Embedded == nil {
		c.Embedded = map[string]any{}
	}
	return &c, nil
}
