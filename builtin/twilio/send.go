package twilio

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/junctionhub/junction/pluginsdk"
)

// ActionSendSMS is the action that sends an SMS.
const ActionSendSMS = "send_sms"

// maxBody is Twilio's limit on a message body, in characters.
const maxBody = 1600

// smsInput is the `with:` block of a `<connection>.send_sms` task.
type smsInput struct {
	To   string `json:"to"`
	Body string `json:"body"`
	From string `json:"from"`
}

// Output is the task output of a sent SMS.
type Output struct {
	// SID is Twilio's message sid (SM…): the provider message id.
	SID    string `json:"sid"`
	Status string `json:"status"`
	To     string `json:"to,omitempty"`
	From   string `json:"from,omitempty"`
}

// apiError is the JSON body of a Twilio error response.
type apiError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// MessagesPath is the path of the Messages resource of an account.
func MessagesPath(accountSID string) string {
	return "/2010-04-01/Accounts/" + url.PathEscape(accountSID) + "/Messages.json"
}

// Perform sends one SMS.
func (c *Connector) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("connection %s: send_sms: %v", c.conn, context.Cause(ctx))
	}
	if req.Action != ActionSendSMS {
		return nil, pluginsdk.Errorf("connection %s: unknown action %q; the twilio connector performs %q", c.conn, req.Action, ActionSendSMS)
	}
	if c.http == nil {
		return nil, pluginsdk.Errorf("connection %s: no HTTP client was granted to the connector", c.conn)
	}
	in, err := parseSMSInput(req.Input)
	if err != nil {
		return nil, pluginsdk.Errorf("connection %s: send_sms input: %v", c.conn, err)
	}
	form := url.Values{"To": {in.To}, "Body": {in.Body}}
	if from := in.From; from != "" {
		form.Set("From", from)
	} else if c.cfg.From != "" {
		form.Set("From", c.cfg.From)
	}
	if c.cfg.MessagingServiceSID != "" {
		form.Set("MessagingServiceSid", c.cfg.MessagingServiceSID)
	}
	if c.cfg.StatusCallback != "" {
		form.Set("StatusCallback", c.cfg.StatusCallback)
	}
	resp, err := c.http.Do(ctx, &pluginsdk.HTTPRequest{
		Method: http.MethodPost,
		URL:    c.cfg.BaseURL + MessagesPath(c.cfg.AccountSID),
		Header: map[string][]string{
			"Authorization": {c.authz},
			"Content-Type":  {"application/x-www-form-urlencoded"},
			"Accept":        {"application/json"},
		},
		Body:    []byte(form.Encode()),
		Timeout: c.cfg.Timeout,
	})
	if err != nil {
		e := pluginsdk.AsError(err)
		return nil, &pluginsdk.Error{Code: e.Code, Retryable: e.Retryable, RetryAfter: e.RetryAfter,
			Message: fmt.Sprintf("connection %s: send SMS to %s: %s", c.conn, in.To, e.Message)}
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, c.statusError(resp, in.To, time.Now())
	}
	var msg struct {
		SID, Status, To, From string
	}
	if err := json.Unmarshal(resp.Body, &msg); err != nil || msg.SID == "" {
		// Twilio accepted the message (2xx): retrying could send it twice.
		return nil, pluginsdk.Errorf("connection %s: send SMS to %s: HTTP %d without a message sid: %s", c.conn, in.To, resp.Status, snippet(resp.Body))
	}
	c.log.Debug("sms sent", "sid", msg.SID, "status", msg.Status)
	out, err := json.Marshal(Output{SID: msg.SID, Status: msg.Status, To: msg.To, From: msg.From})
	if err != nil {
		return nil, pluginsdk.Errorf("connection %s: encode output: %v", c.conn, err)
	}
	return &pluginsdk.PerformResult{Output: out}, nil
}

func parseSMSInput(raw json.RawMessage) (smsInput, error) {
	var in smsInput
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, fmt.Errorf("want an object with to, body and optionally from: %v", err)
	}
	in.To, in.From = strings.TrimSpace(in.To), strings.TrimSpace(in.From)
	switch {
	case in.To == "":
		return in, fmt.Errorf("to is required (a phone number such as +393331234567)")
	case strings.TrimSpace(in.Body) == "":
		return in, fmt.Errorf("body is required")
	case !utf8.ValidString(in.Body):
		return in, fmt.Errorf("body is not valid UTF-8")
	case utf8.RuneCountInString(in.Body) > maxBody:
		return in, fmt.Errorf("body has %d characters, Twilio takes at most %d", utf8.RuneCountInString(in.Body), maxBody)
	}
	return in, nil
}

// statusError turns a non-2xx answer into a typed error, keeping Twilio's
// error code and message.
func (c *Connector) statusError(resp *pluginsdk.HTTPResponse, to string, now time.Time) *pluginsdk.Error {
	e := &pluginsdk.Error{Retryable: resp.Status == http.StatusTooManyRequests || resp.Status >= 500}
	var ae apiError
	if json.Unmarshal(resp.Body, &ae) == nil && ae.Code != 0 {
		e.Code = "twilio_" + strconv.Itoa(ae.Code)
		e.Message = fmt.Sprintf("connection %s: twilio error %d: %s", c.conn, ae.Code, strings.TrimSpace(ae.Message))
		if ae.MoreInfo != "" {
			e.Message += " (" + ae.MoreInfo + ")"
		}
	} else {
		e.Code = "http_" + strconv.Itoa(resp.Status)
		e.Message = fmt.Sprintf("connection %s: send SMS to %s: HTTP %d %s", c.conn, to, resp.Status, http.StatusText(resp.Status))
		if s := snippet(resp.Body); s != "" {
			e.Message += ": " + s
		}
	}
	if e.Retryable {
		if v := resp.Header["Retry-After"]; len(v) > 0 {
			e.RetryAfter = parseRetryAfter(v[0], now)
		}
	}
	return e
}

// snippet is a short, single-line excerpt of a body for an error message.
func snippet(b []byte) string {
	const max = 300
	s := strings.Join(strings.Fields(strings.ToValidUTF8(string(b), "\uFFFD")), " ")
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || secs > int64(24*time.Hour/time.Second) {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
