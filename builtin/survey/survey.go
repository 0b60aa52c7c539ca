// Package survey registers the builtin tasks that distribute surveys
// (kind: Survey) to the contacts of a directory and record their replies:
// survey.distribute (email through an smtp connection, SMS or two-way SMS
// through a twilio connection) and survey.record_reply (a two-way SMS
// answer, from the twilio connection's inbound webhook). See README.md.
//
// Design notes:
//   - Each invitation is a distribution in the contact directory, created
//     (status queued) before anything is sent and keyed by the task's
//     idempotency key: a retry, or a run resumed after a crash, finds it,
//     and one already sent is returned as it is instead of being sent
//     again. What remains is the usual at-least-once window: a crash after
//     the provider accepted the message and before "sent" was saved sends
//     it again on resume (the email keeps its Message-ID, derived from the
//     distribution, so receiving systems can tell).
//   - The personal link is <survey link>?jt=<token>, the token signed with
//     a key kept in the store's secrets (see Links). Its expiry is counted
//     from the distribution's creation, so every attempt renders the same
//     link.
//   - Message placeholders are written [[ ]], not {{ }}: the workflow has
//     already rendered {{ }} in `with:` before this task runs.
//   - Sending goes through the connection's own Perform (the same code as
//     `uses: <connection>.send_email`), found in the hub's connection
//     manager: the connector's errors (an SMTP 535, Twilio's 21211) reach
//     the run unchanged but for a prefix naming the survey and contact.
package survey

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	coredir "github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/task"
)

// Keys of task.Env.Services this package reads or fills.
const (
	// ServiceDirectory is the shared *directory.Service (created from the
	// store and the configured directories when the hub has not put one
	// there).
	ServiceDirectory = "directory"
	// ServiceConnections is the hub's connection manager, anything with
	// the methods of Connections (*connector.Manager).
	ServiceConnections = "connections"
	// ServiceLinks is filled with the *Links that signs personal links, so
	// that a landing route can verify them.
	ServiceLinks = "survey.links"
)

// Connections is what the survey tasks need of the hub's connection
// manager.
type Connections interface {
	Get(name string) (*connector.Conn, bool)
	All() []*connector.Conn
}

// The hub's manager is what the hub puts in Services["connections"].
var _ Connections = (*connector.Manager)(nil)

func init() {
	task.Register(task.Def{
		ID:          "survey.distribute",
		Description: "Send a survey invitation with a personal link to a contact by email, SMS or two-way SMS",
		New:         func(env *task.Env) (task.Executor, error) { return newDistributor(env) },
	})
	task.Register(task.Def{
		ID:          "survey.record_reply",
		Description: "Record a two-way SMS reply as the answer of the latest two-way distribution to that phone",
		New:         func(env *task.Env) (task.Executor, error) { return newRecorder(env) },
	})
}

// base is what both tasks share.
type base struct {
	env     *task.Env
	dir     *coredir.Service
	surveys map[string]*config.Survey
	names   []string // configured survey names, sorted
	links   *Links
	log     *slog.Logger
	now     func() time.Time
}

func newBase(env *task.Env) (*base, error) {
	if env.Store == nil {
		return nil, errors.New("the survey tasks need a store")
	}
	dir, ok := env.Services[ServiceDirectory].(*coredir.Service)
	if !ok {
		dirs, _ := env.Resources[config.KindDirectory].([]*config.Directory)
		dir = coredir.New(env.Store, dirs)
		if env.Services != nil {
			env.Services[ServiceDirectory] = dir
		}
	}
	links, ok := env.Services[ServiceLinks].(*Links)
	if !ok {
		links = NewLinks(env.Store.Secrets())
		if env.Services != nil {
			env.Services[ServiceLinks] = links
		}
	}
	b := &base{env: env, dir: dir, surveys: map[string]*config.Survey{}, links: links, log: env.Logger, now: time.Now}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	surveys, _ := env.Resources[config.KindSurvey].([]*config.Survey)
	for _, s := range surveys {
		if s != nil {
			b.surveys[s.Name] = s
			b.names = append(b.names, s.Name)
		}
	}
	sort.Strings(b.names)
	return b, nil
}

// survey returns a configured, active survey.
func (b *base) survey(name string) (*config.Survey, error) {
	s, ok := b.surveys[name]
	switch {
	case !ok && len(b.names) == 0:
		return nil, fmt.Errorf("survey %s is not configured: no kind: Survey is loaded", name)
	case !ok:
		return nil, fmt.Errorf("survey %s is not configured (configured: %s)", name, strings.Join(b.names, ", "))
	case s.Status == "inactive":
		return nil, fmt.Errorf("survey %s is inactive: activate it before distributing", name)
	case s.Link == "":
		return nil, fmt.Errorf("survey %s has no link: set spec.link to the survey's URL", name)
	}
	return s, nil
}

// connections returns the hub's connection manager. It is looked up at
// each call, not at start-up, so that the hub may add it to Services after
// building the tasks.
func (b *base) connections() (Connections, error) {
	if c, ok := b.env.Services[ServiceConnections].(Connections); ok {
		return c, nil
	}
	return nil, fmt.Errorf("the hub gave the survey tasks no connection manager (task.Env.Services[%q])", ServiceConnections)
}
