package survey

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// Actions a `via` connection must perform, by method.
const (
	ActionEmail = "send_email"
	ActionSMS   = "send_sms"
)

// DistributeOutput is the task output of survey.distribute.
type DistributeOutput struct {
	DistributionID    string `json:"distributionId"`
	ContactID         string `json:"contactId"`
	SurveyID          string `json:"surveyId"`
	Method            string `json:"method"`
	Status            string `json:"status"`
	Via               string `json:"via"`
	ProviderMessageID string `json:"providerMessageId,omitempty"`
	Link              string `json:"link"`
	// AlreadySent is true when an earlier attempt of the same task had sent
	// it: nothing was sent this time.
	AlreadySent bool `json:"alreadySent,omitempty"`
}

type distributor struct {
	*base
	surveys
	contacts task.Contacts
	conns    task.Connections
	// links is built here, not by the hub: this task is its only user, and
	// being one executor per hub it is one signer, which generates the key
	// once.
	links *Links
}

func newDistributor(env *task.Env) *distributor {
	return &distributor{base: newBase(env), surveys: newSurveys(env.Surveys), contacts: env.Contacts, conns: env.Connections, links: NewLinks(env.Secrets)}
}

// Execute implements task.Executor.
func (d *distributor) Execute(ctx context.Context, call *task.Call) (json.RawMessage, error) {
	return output(d.distribute(ctx, call))
}

// classify tells the engine whether to retry: configuration and input
// problems fail the run at once, storage trouble is retried.
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

// permanent is an error a retry cannot fix.
func permanent(format string, args ...any) error { return pluginsdk.Errorf(format, args...) }

func (d *distributor) distribute(ctx context.Context, call *task.Call) (*DistributeOutput, error) {
	in, err := parseDistribute(call.Input)
	if err != nil {
		return nil, err
	}
	sv, err := d.survey(in.Survey)
	if err != nil {
		return nil, permanent("%v", err)
	}
	via, performer, err := d.via(in)
	if err != nil {
		return nil, err
	}
	c, _, err := d.contacts.Upsert(ctx, in.Directory, in.Contact)
	if err != nil {
		return nil, fmt.Errorf("survey %s: contact in %s: %w", sv.Name, in.Directory, err)
	}
	to, err := address(c, in.Method, sv.Name)
	if err != nil {
		return nil, err
	}
	dist, created, err := d.dists.CreateDistribution(ctx, directory.DistributionInput{
		ContactID: c.ID, SurveyID: sv.Name, Method: in.Method, RunID: call.RunID, IdempotencyKey: call.IdempotencyKey,
	})
	if err != nil {
		return nil, fmt.Errorf("survey %s: record distribution to %s: %w", sv.Name, c.ID, err)
	}
	out := &DistributeOutput{DistributionID: dist.ID, ContactID: c.ID, SurveyID: sv.Name, Method: in.Method, Via: via}
	if !created && (dist.Status == directory.StatusSent || dist.Status == directory.StatusAnswered) {
		out.Status, out.ProviderMessageID, out.Link, out.AlreadySent = dist.Status, dist.ProviderMessageID, dist.Link, true
		return out, nil
	}
	if !created && (dist.ContactID != c.ID || dist.SurveyID != sv.Name || dist.Method != in.Method) {
		return nil, permanent("survey %s: idempotency key %s already names distribution %s (survey %s to %s by %s)",
			sv.Name, call.IdempotencyKey, dist.ID, dist.SurveyID, dist.ContactID, dist.Method)
	}

	link, err := d.personalLink(ctx, sv, c, dist, in)
	if err != nil {
		return nil, err
	}
	out.Link = link
	action, input, err := message(in, sv, c, dist.ID, link, to)
	if err != nil {
		if _, uerr := d.dists.UpdateDistribution(ctx, dist.ID, directory.DistributionUpdate{Status: directory.StatusFailed, Error: err.Error(), Link: link}); uerr != nil {
			return nil, fmt.Errorf("%v (and recording the failure: %w)", err, uerr)
		}
		return nil, permanent("survey %s to %s: %v", sv.Name, c.ID, err)
	}
	res, perr := performer.Perform(ctx, &pluginsdk.PerformRequest{Action: action, Input: input, IdempotencyKey: dist.ID, Attempt: call.Attempt})
	if perr != nil {
		pe := pluginsdk.AsError(perr)
		msg := fmt.Sprintf("survey %s: %s to %s (contact %s) failed: %s", sv.Name, in.Method, to, c.ID, pe.Message)
		if _, uerr := d.dists.UpdateDistribution(ctx, dist.ID, directory.DistributionUpdate{Status: directory.StatusFailed, Error: pe.Message, Link: link}); uerr != nil {
			d.log.Error("record failed distribution", "distribution", dist.ID, "error", uerr)
			msg += fmt.Sprintf(" (recording the failure also failed: %v)", uerr)
		}
		return nil, &pluginsdk.Error{Code: pe.Code, Message: msg, Retryable: pe.Retryable, RetryAfter: pe.RetryAfter}
	}
	msgID := providerMessageID(res)
	if _, err := d.dists.MarkDistributionSent(ctx, dist.ID, msgID, link); err != nil {
		// Sent, but not recorded: a retry would send again, which is the
		// lesser evil than a distribution stuck in queued forever.
		return nil, fmt.Errorf("survey %s: %s to %s was sent (message %s) but recording it failed: %w", sv.Name, in.Method, to, msgID, err)
	}
	d.log.Info("survey distributed", "survey", sv.Name, "distribution", dist.ID, "contact", c.ID, "method", in.Method, "via", via)
	out.Status, out.ProviderMessageID = directory.StatusSent, msgID
	return out, nil
}

// address is where the method sends to, or a precise error.
func address(c *directory.Contact, method, survey string) (string, error) {
	if c.Unsubscribed {
		return "", permanent("contact %s has unsubscribed: not sending survey %s", c.ID, survey)
	}
	if method == directory.MethodEmail {
		if c.Email == "" {
			return "", permanent("contact %s has no email address: cannot send survey %s by email", c.ID, survey)
		}
		return c.Email, nil
	}
	phone := e164(c.Phone)
	if strings.TrimPrefix(phone, "+") == "" {
		return "", permanent("contact %s has no phone number: cannot send survey %s by %s", c.ID, survey, method)
	}
	return phone, nil
}

// e164 keeps a leading "+" and the digits of a phone number, which is what
// SMS APIs take ("+39 333 123-4567" is "+393331234567").
func e164(phone string) string {
	var b strings.Builder
	for i, r := range strings.TrimSpace(phone) {
		if (r == '+' && i == 0) || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// via finds the connection that sends for the method: the named one, or
// the only one able to.
func (d *distributor) via(in *distributeInput) (string, pluginsdk.Performer, error) {
	action, what := ActionSMS, "send SMS"
	if in.Method == directory.MethodEmail {
		action, what = ActionEmail, "send email"
	}
	able := func(c task.Connection) (pluginsdk.Performer, bool) {
		if c.Performer == nil || !c.Spec.HasRole(pluginsdk.RolePerform) {
			return nil, false
		}
		_, has := c.Spec.Action(action)
		return c.Performer, has
	}
	if in.Via != "" {
		c, ok := d.conns.Connection(in.Via)
		if !ok {
			names := make([]string, 0)
			for _, c := range d.conns.Connections() {
				names = append(names, c.Name)
			}
			return "", nil, permanent("with.via: no connection %q (connections: %s)", in.Via, strings.Join(names, ", "))
		}
		p, ok := able(c)
		if !ok {
			return "", nil, permanent("with.via: connection %s (%s) cannot %s: it has no %s action", in.Via, c.Spec.Name, what, action)
		}
		return in.Via, p, nil
	}
	var names []string
	var found pluginsdk.Performer
	for _, c := range d.conns.Connections() {
		if p, ok := able(c); ok {
			names, found = append(names, c.Name), p
		}
	}
	switch len(names) {
	case 1:
		return names[0], found, nil
	case 0:
		return "", nil, permanent("with.via: no connection can %s (none performs %s); configure one and name it in via", what, action)
	}
	return "", nil, permanent("with.via: several connections can %s (%s); name one in via", what, strings.Join(names, ", "))
}

// personalLink signs the link of one distribution. It expires link_ttl
// after the distribution was created, so retries render the same link.
func (d *distributor) personalLink(ctx context.Context, sv *config.Survey, c *directory.Contact, dist *directory.Distribution, in *distributeInput) (string, error) {
	emb := c.Embedded
	if in.LinkEmbedded != nil {
		emb = map[string]any{}
		for _, k := range in.LinkEmbedded {
			if v, ok := c.Embedded[k]; ok {
				emb[k] = v
			}
		}
	}
	if b, _ := json.Marshal(emb); len(b) > maxLinkEmbedded {
		keys := slices.Sorted(maps.Keys(emb))
		return "", permanent("survey %s: contact %s has %d bytes of embedded data (%s), too much for a link (at most %d): list the keys the survey needs in with.link_embedded",
			sv.Name, c.ID, len(b), strings.Join(keys, ", "), maxLinkEmbedded)
	}
	if len(emb) == 0 {
		emb = nil
	}
	token, err := d.links.Sign(ctx, LinkClaims{ContactID: c.ID, DistributionID: dist.ID, SurveyID: sv.Name,
		Expires: dist.CreatedAt.Add(in.LinkTTL).Unix(), Embedded: emb})
	if err != nil {
		return "", fmt.Errorf("survey %s: sign link: %w", sv.Name, err)
	}
	link, err := PersonalLink(sv.Link, token)
	if err != nil {
		return "", permanent("%v", err)
	}
	return link, nil
}

// message renders the invitation and returns the action and input to
// perform.
func message(in *distributeInput, sv *config.Survey, c *directory.Contact, distID, link, to string) (string, json.RawMessage, error) {
	name := sv.DisplayName
	if name == "" {
		name = sv.Name
	}
	data := renderData(c, link, sv.Name, name, distID)
	body, err := in.Body.render(data)
	if err != nil {
		return "", nil, err
	}
	if !strings.Contains(body, link) {
		return "", nil, fmt.Errorf("message.body does not include the personal link: add [[ .link ]] where it goes")
	}
	if in.Method != directory.MethodEmail {
		b, err := json.Marshal(map[string]string{"to": to, "body": body})
		return ActionSMS, b, err
	}
	subject, err := in.Subject.render(data)
	if err != nil {
		return "", nil, err
	}
	subject = strings.Join(strings.Fields(subject), " ") // a template may leave line breaks
	var unsub []string
	for _, t := range in.Unsubscribe {
		u, err := t.render(data)
		if err != nil {
			return "", nil, err
		}
		if u = strings.TrimSpace(u); u != "" {
			unsub = append(unsub, u)
		}
	}
	input := map[string]any{"to": to, "subject": subject, "text": body, "html": textToHTML(body)}
	if len(unsub) > 0 {
		input["list_unsubscribe"] = unsub
	}
	b, err := json.Marshal(input)
	return ActionEmail, b, err
}

// providerMessageID reads the id a connector reported: messageId (email),
// sid (Twilio), or id.
func providerMessageID(res *pluginsdk.PerformResult) string {
	if res == nil || len(res.Output) == 0 {
		return ""
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(res.Output))
	dec.UseNumber()
	if dec.Decode(&out) != nil {
		return ""
	}
	for _, k := range []string{"messageId", "sid", "id"} {
		if s, ok := out[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// output is a task's result: its error classified for the engine, or its
// output as JSON.
func output(out any, err error) (json.RawMessage, error) {
	if err != nil {
		return nil, classify(err)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, pluginsdk.Errorf("encode output: %v", err)
	}
	return b, nil
}
