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
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/task"
)

func init() {
	task.Register(task.Def{
		ID:          "survey.distribute",
		Description: "Send a survey invitation with a personal link to a contact by email, SMS or two-way SMS",
		Needs:       []task.Service{task.NeedContacts, task.NeedDistributions, task.NeedConnections, task.NeedSecrets},
		New:         func(env *task.Env) (task.Executor, error) { return newDistributor(env), nil },
	})
	task.Register(task.Def{
		ID:          "survey.record_reply",
		Description: "Record a two-way SMS reply as the answer of the latest two-way distribution to that phone",
		Needs:       []task.Service{task.NeedDistributions, task.NeedEvents},
		New:         func(env *task.Env) (task.Executor, error) { return newRecorder(env), nil },
	})
}

// base is what both tasks share.
type base struct {
	dists task.Distributions
	log   *slog.Logger
	now   func() time.Time
}

func newBase(env *task.Env) *base {
	b := &base{dists: env.Distributions, log: env.Logger, now: time.Now}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	return b
}

// surveys are the configured surveys, by name.
type surveys struct {
	byName map[string]*config.Survey
	names  []string // sorted
}

func newSurveys(list []*config.Survey) surveys {
	s := surveys{byName: map[string]*config.Survey{}}
	for _, sv := range list {
		if sv != nil {
			s.byName[sv.Name] = sv
			s.names = append(s.names, sv.Name)
		}
	}
	sort.Strings(s.names)
	return s
}

// survey returns a configured, active survey.
func (all surveys) survey(name string) (*config.Survey, error) {
	s, ok := all.byName[name]
	switch {
	case !ok && len(all.names) == 0:
		return nil, fmt.Errorf("survey %s is not configured: no kind: Survey is loaded", name)
	case !ok:
		return nil, fmt.Errorf("survey %s is not configured (configured: %s)", name, strings.Join(all.names, ", "))
	case s.Status == "inactive":
		return nil, fmt.Errorf("survey %s is inactive: activate it before distributing", name)
	case s.Link == "":
		return nil, fmt.Errorf("survey %s has no link: set spec.link to the survey's URL", name)
	}
	return s, nil
}
