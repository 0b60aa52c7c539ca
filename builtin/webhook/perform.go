package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
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

// ActionPost is the one action the connector performs.
const ActionPost = "post"

// Limits on what a response contributes to the run record.
const (
	// MaxOutputBody caps the response body kept in the task output.
	MaxOutputBody = 64 << 10
	// maxSnippet caps the response body quoted in an error message.
	maxSnippet = 512
)

// SignatureHeader carries sha256=<hex HMAC-SHA256(signing_secret, body)>.
const SignatureHeader = "X-Junction-Signature"

// postInput is the `with:` block of a `<connection>.post` task.
type postInput struct {
	Body    json.RawMessage   `json:"body"`
	Headers map[string]string `json:"headers"`
}

// postOutput is the task output of a successful post.
type postOutput struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
	// Truncated is true when Body is the first MaxOutputBody bytes of a
	// larger response, as a string.
	Truncated bool `json:"truncated,omitempty"`
}

// Perform sends input.body as JSON to config.url. A 2xx response is the
// task's output; 408, 429 and 5xx responses and network errors are retryable
// (honouring Retry-After); other statuses are permanent failures.
func (c *Connector) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("connection %s: post: %v", c.conn, context.Cause(ctx))
	}
	if req.Action != ActionPost {
		return nil, pluginsdk.Errorf("connection %s: unknown action %q; the webhook connector performs %q", c.conn, req.Action, ActionPost)
	}
	if c.cfg.URL == "" {
		return nil, pluginsdk.Errorf("connection %s: config.url is not set; it is required for the post action", c.conn)
	}
	if c.http == nil {
		return nil, pluginsdk.Errorf("connection %s: no HTTP client was granted to the connector", c.conn)
	}
	var in postInput
	dec := json.NewDecoder(bytes.NewReader(req.Input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, pluginsdk.Errorf("connection %s: post input: %v", c.conn, err)
	}
	if len(in.Body) == 0 {
		return nil, pluginsdk.Errorf("connection %s: post input: body is required", c.conn)
	}
	extra, problems := checkHeaders("post input headers", in.Headers)
	if len(problems) > 0 {
		return nil, pluginsdk.Errorf("connection %s: %s", c.conn, strings.Join(problems, "; "))
	}

	header := make(map[string][]string, len(c.headers)+len(extra)+3)
	for k, v := range c.headers {
		header[k] = v
	}
	for k, v := range extra {
		header[k] = v
	}
	header["Content-Type"] = []string{"application/json"}
	if req.IdempotencyKey != "" {
		header["Idempotency-Key"] = []string{req.IdempotencyKey}
	}
	if c.secret != nil {
		header[SignatureHeader] = []string{Sign(c.secret, in.Body)}
	}
	hreq := &pluginsdk.HTTPRequest{
		Method:  c.cfg.Method,
		URL:     c.cfg.URL,
		Header:  header,
		Body:    in.Body,
		Timeout: c.cfg.Timeout,
	}
	var resp *pluginsdk.HTTPResponse
	var err error
	if c.oauth != nil {
		if _, ok := header["Authorization"]; ok {
			return nil, pluginsdk.Errorf("connection %s: post input headers set Authorization, which auth type oauth2 sets to the bearer token", c.conn)
		}
		resp, err = c.oauth.Do(ctx, c.http, hreq)
	} else {
		resp, err = c.http.Do(ctx, hreq)
	}
	if err != nil {
		return nil, pluginsdk.AsError(err)
	}
	if resp.Status >= 200 && resp.Status < 300 {
		out, err := json.Marshal(outputFor(resp))
		if err != nil {
			return nil, pluginsdk.Errorf("connection %s: encode output: %v", c.conn, err)
		}
		return &pluginsdk.PerformResult{Output: out}, nil
	}
	return nil, c.statusError(resp, time.Now())
}

// Sign returns the X-Junction-Signature value for body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func outputFor(resp *pluginsdk.HTTPResponse) postOutput {
	out := postOutput{Status: resp.Status}
	b := trimJSONSpace(resp.Body)
	switch {
	case len(b) == 0:
		out.Body = json.RawMessage("null")
	case len(b) <= MaxOutputBody && json.Valid(b):
		out.Body = json.RawMessage(b)
	default:
		s, cut := truncateUTF8(resp.Body, MaxOutputBody)
		out.Body, _ = json.Marshal(s)
		out.Truncated = cut
	}
	return out
}

func (c *Connector) statusError(resp *pluginsdk.HTTPResponse, now time.Time) *pluginsdk.Error {
	snippet, cut := truncateUTF8(resp.Body, maxSnippet)
	snippet = strings.Join(strings.Fields(snippet), " ")
	if cut {
		snippet += "…"
	}
	msg := fmt.Sprintf("connection %s: %s %s: HTTP %d %s", c.conn, c.cfg.Method, redactURL(c.cfg.URL), resp.Status, http.StatusText(resp.Status))
	if snippet != "" {
		msg += ": " + snippet
	}
	e := &pluginsdk.Error{Code: "http_" + strconv.Itoa(resp.Status), Message: msg}
	if retryableStatus(resp.Status) {
		e.Retryable = true
		if v := resp.Header["Retry-After"]; len(v) > 0 {
			e.RetryAfter = parseRetryAfter(v[0], now)
		}
	}
	return e
}

// retryableStatus: the target is overloaded, throttling, or failed in a way
// that another attempt may not meet.
func retryableStatus(s int) bool {
	return s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500
}

// parseRetryAfter reads Retry-After as delay-seconds or an HTTP date
// (RFC 9110 §10.2.3); anything else, or a date in the past, gives 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 || secs > int64(1<<62/time.Second) {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// truncateUTF8 returns at most n bytes of b as a string, cut on a rune
// boundary, and whether it cut anything.
func truncateUTF8(b []byte, n int) (string, bool) {
	if len(b) <= n {
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	}
	b = b[:n]
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b), true
}

// redactURL drops credentials and query, which may carry tokens, from a URL
// quoted in run history.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}
