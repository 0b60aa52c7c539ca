package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// Notice kinds.
const (
	// KindFiring: the condition started to hold.
	KindFiring = "firing"
	// KindRepeat: still firing, with what happened since the last notice.
	KindRepeat = "repeat"
	// KindResolved: the condition cleared.
	KindResolved = "resolved"
)

// Notice is one notification of an alert, as sent and as the API shows it.
type Notice struct {
	Alert     string `json:"alert"`
	Seq       int64  `json:"seq"`
	Kind      string `json:"kind"`
	Condition string `json:"condition"`
	// Summary says what the alert watches, in words.
	Summary string `json:"summary"`
	// Occurrences counts what happened since the previous notice (firing,
	// repeat) or during the whole episode (resolved).
	Occurrences int       `json:"occurrences"`
	Since       time.Time `json:"since"`
	At          time.Time `json:"at"`
	Detail      string    `json:"detail,omitempty"`
	Text        string    `json:"text"`
	// Delivery: "queued", "sent", or "failed" with Error.
	Delivery string `json:"delivery"`
	Error    string `json:"error,omitempty"`

	connection, channel, subject string
	to                           []string
}

// notify builds the alert's next notice, records it and queues it for
// sending; e.mu is held.
func (e *Engine) notify(ctx context.Context, rt *runtime, kind string, now time.Time) {
	st, def := rt.st, rt.def
	st.Seq++
	n := &Notice{
		Alert: def.Name, Seq: st.Seq, Kind: kind, Condition: def.When.Kind, Summary: def.When.String(),
		Occurrences: st.Pending, Since: st.Since, At: now, Detail: st.LastDetail, Delivery: "queued",
		connection: def.Notify.Connection, channel: def.Notify.Channel, subject: def.Notify.Subject, to: def.Notify.To,
	}
	if kind == KindResolved {
		n.Occurrences = st.Total
		n.Detail = ""
	}
	if def.When.Kind == config.AlertFetchFailed && kind != KindResolved {
		n.Detail = strings.Join(failingDetails(st), "; ")
	}
	if def.When.Kind == config.AlertLogLag && kind != KindResolved {
		n.Detail = fmt.Sprintf("log lag is %d events, above %d since %s", st.LastLag, def.When.Above, st.LagSince.UTC().Format(time.RFC3339))
	}
	n.Text = noticeText(n, st.Total)
	if kind != KindResolved {
		st.LastNotice = now
		st.Announced = true
		st.Pending = 0
	}
	e.recent = append(e.recent, n)
	if over := len(e.recent) - e.o.Recent; over > 0 {
		e.recent = append([]*Notice(nil), e.recent[over:]...)
	}
	e.save(ctx, rt)
	if err := saveRecent(ctx, e.o.KV, e.recent); err != nil {
		e.log.Error("recent alert notices not saved", "err", err)
	}
	e.log.Warn("alert "+kind, "alert", def.Name, "occurrences", n.Occurrences, "detail", n.Detail)
	select {
	case e.notices <- n:
	default:
		n.Delivery, n.Error = "failed", "too many notices waiting to be sent"
		e.metrics.failed(def.Name)
		e.log.Error("alert notice dropped: too many waiting to be sent", "alert", def.Name, "kind", kind)
	}
}

func failingDetails(st *state) []string {
	var out []string
	for _, c := range st.failingConnections() {
		out = append(out, st.Failing[c])
	}
	return out
}

// noticeText is the one-line message: what Slack and Teams show, and the
// email's body.
func noticeText(n *Notice, total int) string {
	var b strings.Builder
	switch n.Kind {
	case KindFiring:
		fmt.Fprintf(&b, "[FIRING] %s: %s. %s.", n.Alert, n.Summary, occurrences(n.Occurrences))
	case KindRepeat:
		fmt.Fprintf(&b, "[FIRING] %s: still firing since %s: %s since the last notice (%d in all).",
			n.Alert, n.Since.UTC().Format(time.RFC3339), occurrences(n.Occurrences), total)
	case KindResolved:
		fmt.Fprintf(&b, "[RESOLVED] %s: %s no longer holds, after %s; %s in all.",
			n.Alert, n.Summary, n.At.Sub(n.Since).Round(time.Second), occurrences(n.Occurrences))
	}
	if n.Detail != "" {
		b.WriteString(" Last: " + n.Detail)
	}
	return b.String()
}

func occurrences(n int) string {
	if n == 1 {
		return "1 occurrence"
	}
	return fmt.Sprintf("%d occurrences", n)
}

// send delivers queued notices in order until ctx ends.
func (e *Engine) send(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case n := <-e.notices:
			err := e.deliver(ctx, n)
			e.mu.Lock()
			if err != nil {
				n.Delivery, n.Error = "failed", err.Error()
			} else {
				n.Delivery = "sent"
			}
			// Notices are few; keeping their outcome lets a restart tell
			// a sent one from one that never went out.
			if serr := saveRecent(ctx, e.o.KV, e.recent); serr != nil {
				e.log.Error("recent alert notices not saved", "err", serr)
			}
			e.mu.Unlock()
			if err != nil {
				e.metrics.failed(n.Alert)
				e.log.Error("alert notice not delivered", "alert", n.Alert, "kind", n.Kind, "connection", n.connection, "err", err)
				continue
			}
			e.metrics.sent(n.Alert, n.Kind)
		}
	}
}

// deliverAttempts bounds the tries of one notice.
const deliverAttempts = 3

func (e *Engine) deliver(ctx context.Context, n *Notice) error {
	action, input, err := noticeInput(n)
	if err != nil {
		return err
	}
	ex, err := e.o.Actions.Action(n.connection, action)
	if err != nil {
		return fmt.Errorf("notify through %s: %w", n.connection, err)
	}
	delay := e.o.RetryDelay
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, e.o.NotifyTimeout)
		_, err = ex.Execute(actx, &task.Call{
			RunID: "alert", Workflow: n.Alert, Task: "notify", Input: input, Attempt: attempt,
			IdempotencyKey: fmt.Sprintf("alert/%s/%d", n.Alert, n.Seq),
		})
		cancel()
		if err == nil {
			return nil
		}
		perr := pluginsdk.AsError(err)
		if !perr.Retryable || attempt >= deliverAttempts {
			return fmt.Errorf("notify through %s (attempt %d): %w", n.connection, attempt, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("notify through %s: %w", n.connection, ctx.Err())
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// noticeInput is the action and its input for the notice's channel.
func noticeInput(n *Notice) (string, json.RawMessage, error) {
	var action string
	var in any
	switch n.channel {
	case "webhook":
		// Slack and Teams incoming webhooks show text; the other fields
		// are for whatever else receives it.
		action = "post"
		in = map[string]any{"body": map[string]any{
			"text": n.Text, "alert": n.Alert, "status": status(n.Kind), "kind": n.Kind, "condition": n.Condition,
			"summary": n.Summary, "occurrences": n.Occurrences, "since": n.Since.UTC(), "at": n.At.UTC(),
			"detail": n.Detail, "seq": n.Seq,
		}}
	case "smtp":
		subject := n.subject
		if subject == "" {
			subject = "Junction alert " + n.Alert
		}
		action = "send_email"
		in = map[string]any{"to": n.to, "subject": fmt.Sprintf("[%s] %s", strings.ToUpper(status(n.Kind)), subject), "text": n.Text + "\n"}
	default:
		return "", nil, fmt.Errorf("connection %s cannot send alert notices (want a webhook or smtp connection)", n.connection)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return "", nil, fmt.Errorf("encode alert notice: %w", err)
	}
	return action, b, nil
}

// status is firing or resolved: a repeat is still firing.
func status(kind string) string {
	if kind == KindResolved {
		return "resolved"
	}
	return "firing"
}
