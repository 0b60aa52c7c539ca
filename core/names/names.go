// Package names is Junction's one namespace of the things compiled into the
// binary. Every builtin connector and every builtin task is registered here
// once, under a dotted ID that says what it is:
//
//	connector.<name>          connector.webhook               (connector: webhook)
//	task.<group>.<name>       task.directory.upsert_contact   (uses: directory.upsert_contact)
//
// The ID is the key of the registries (connector.Register and task.Register
// call Register); what a user writes in YAML is the ID without its kind, so
// configs do not change. Every part of an ID follows one rule, the same as a
// plugin's name: a lowercase letter, then up to 63 lowercase letters, digits,
// "_" or "-". Register runs from init and panics on a bad or duplicate ID,
// as Caddy's RegisterModule does, so a registration mistake never survives
// start-up.
//
// Installed plugins live in the connector namespace too, but they are not
// compiled in: a plugin's name is checked against what is (Taken), so a
// plugin named like a builtin connector, or like a group of builtin tasks, is
// refused at install and at load instead of being shadowed by the builtin.
package names

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// The kinds of compiled-in things: the first part of every ID.
const (
	KindConnector = "connector"
	KindTask      = "task"
)

// ID is a registered thing's dotted ID, e.g. "connector.webhook".
type ID string

// Connector is the ID of the connector that `connector: name` names.
func Connector(name string) ID { return ID(KindConnector + "." + name) }

// Task is the ID of the builtin task that `uses: group.name` names.
func Task(uses string) ID { return ID(KindTask + "." + uses) }

// Kind is the ID's first part: KindConnector or KindTask.
func (id ID) Kind() string {
	k, _, _ := strings.Cut(string(id), ".")
	return k
}

// Name is what YAML writes: the ID without its kind ("webhook",
// "directory.upsert_contact").
func (id ID) Name() string {
	_, n, _ := strings.Cut(string(id), ".")
	return n
}

var partRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)

// ValidName reports whether s is one part of an ID: a connector's or a
// plugin's name, or a part of a task's.
func ValidName(s string) bool { return partRE.MatchString(s) }

// Check says why id breaks the rule, or returns nil: a known kind, then one
// name for a connector, a group and a name (or more parts) for a task.
func Check(id ID) error {
	parts := strings.Split(string(id), ".")
	for _, p := range parts {
		if !ValidName(p) {
			return fmt.Errorf("ID %q: part %q is not a lowercase name (a letter, then up to 63 letters, digits, _ or -)", string(id), p)
		}
	}
	switch parts[0] {
	case KindConnector:
		if len(parts) != 2 {
			return fmt.Errorf("ID %q: want connector.<name>, one name without dots", string(id))
		}
	case KindTask:
		if len(parts) < 3 {
			return fmt.Errorf("ID %q: want task.<group>.<name>, as `uses:` writes group.name", string(id))
		}
	default:
		return fmt.Errorf("ID %q: unknown kind %q (want %s or %s)", string(id), parts[0], KindConnector, KindTask)
	}
	return nil
}

var (
	mu  sync.RWMutex
	ids = map[ID]bool{}
)

// Register claims id for a compiled-in thing. It is meant to be called from
// init (through connector.Register or task.Register) and panics on an ID that
// breaks the rule or is already registered.
func Register(id ID) {
	if err := Check(id); err != nil {
		panic("names.Register: " + err.Error())
	}
	mu.Lock()
	defer mu.Unlock()
	if ids[id] {
		panic(fmt.Sprintf("names.Register(%q): already registered", string(id)))
	}
	ids[id] = true
}

// Registered reports whether id is compiled in.
func Registered(id ID) bool {
	mu.RLock()
	defer mu.RUnlock()
	return ids[id]
}

// All lists every registered ID, sorted.
func All() []ID {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]ID, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ErrTaken is wrapped by Taken's error.
var ErrTaken = errors.New("the name belongs to a builtin")

// Taken returns an error wrapping ErrTaken when a plugin called name would
// collide with what is compiled in: a builtin connector of that name (a
// connection's `connector: name` would be ambiguous, and the builtin would
// win), or builtin tasks grouped under that name (`uses: name.x` would read
// as either). It returns nil when the name is free. The message names the
// builtin and says what to do, for `junction plugin install` and for the
// hub's log.
func Taken(name string) error {
	if Registered(Connector(name)) {
		return &takenError{name: name, by: fmt.Sprintf("the builtin connector %s (connector: %s)", Connector(name), name)}
	}
	if tasks := tasksIn(name); len(tasks) > 0 {
		return &takenError{name: name, by: fmt.Sprintf("the builtin tasks %s.* (uses: %s)", Task(name), strings.Join(tasks, ", "))}
	}
	return nil
}

// tasksIn lists the `uses:` names of the builtin tasks in group.
func tasksIn(group string) []string {
	prefix := string(Task(group)) + "."
	var out []string
	for _, id := range All() {
		if strings.HasPrefix(string(id), prefix) {
			out = append(out, id.Name())
		}
	}
	return out
}

type takenError struct{ name, by string }

func (e *takenError) Error() string {
	return fmt.Sprintf("plugin name %q is taken by %s; a plugin cannot shadow a builtin: rename the plugin (name: in its junction-plugin.yaml and Spec.Name), then the connections that use it",
		e.name, e.by)
}

func (e *takenError) Unwrap() error { return ErrTaken }
