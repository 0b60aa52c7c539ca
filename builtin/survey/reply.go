package survey

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/junctionhub/junction/core/directory"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
)

// ReplyOutput is the task output of survey.record_reply.
type ReplyOutput struct {
	DistributionID string `json:"distributionId"`
	ContactID      string `json:"contactId"`
	SurveyID       string `json:"surveyId"`
	Status         string `json:"status"`
	Answers        int    `json:"answers"`
	// Duplicate is true when this reply was already recorded (a retry).
	Duplicate bool `json:"duplicate,omitempty"`
}

type recorder struct {
	*base
	events task.EventLog // for the time of a triggering event passed by ID
}

func newRecorder(env *task.Env) *recorder {
	return &recorder{base: newBase(env), events: env.Events}
}

// Execute implements task.Executor.
func (r *recorder) Execute(ctx context.Context, call *task.Call) (json.RawMessage, error) {
	return output(r.record(ctx, call))
}

func (r *recorder) record(ctx context.Context, call *task.Call) (*ReplyOutput, error) {
	in, err := parseReply(call.Input)
	if err != nil {
		return nil, err
	}
	dist, err := r.dists.DistributionByPhone(ctx, in.From)
	if errors.Is(err, directory.ErrNotFound) {
		return nil, permanent("no two-way SMS survey was sent to %s: reply %s (%q) matches no distribution", e164(in.From), in.MessageSID, in.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("find the distribution a reply from %s answers: %w", in.From, err)
	}
	at, err := r.receivedAt(ctx, call)
	if err != nil {
		return nil, err
	}
	out := &ReplyOutput{DistributionID: dist.ID, ContactID: dist.ContactID, SurveyID: dist.SurveyID}
	// A retry of this task must not record the reply twice. The time comes
	// from the triggering event, so a retry sees the same time and body.
	for _, a := range dist.Answers {
		if a.At.Equal(at) && a.Body == in.Body {
			out.Status, out.Answers, out.Duplicate = dist.Status, len(dist.Answers), true
			return out, nil
		}
	}
	dist, err = r.dists.RecordAnswer(ctx, dist.ID, at, in.Body)
	if err != nil {
		return nil, fmt.Errorf("record the reply %s on distribution %s: %w", in.MessageSID, out.DistributionID, err)
	}
	r.log.Info("survey reply recorded", "survey", dist.SurveyID, "distribution", dist.ID, "contact", dist.ContactID, "message_sid", in.MessageSID)
	out.Status, out.Answers = dist.Status, len(dist.Answers)
	return out, nil
}

// receivedAt is when the reply arrived: the triggering event's time, else
// now (a test run without an event).
func (r *recorder) receivedAt(ctx context.Context, call *task.Call) (time.Time, error) {
	ev := call.Event
	if ev == nil {
		return r.now().UTC(), nil
	}
	if ev.ReceivedAt.IsZero() && ev.ID != "" {
		stored, err := r.events.Get(ctx, ev.ID)
		if errors.Is(err, store.ErrNotFound) {
			return r.now().UTC(), nil
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("read the time of event %s: %w", ev.ID, err)
		}
		ev = &stored
	}
	if !ev.ReceivedAt.IsZero() {
		return ev.ReceivedAt.UTC(), nil
	}
	return r.now().UTC(), nil
}
