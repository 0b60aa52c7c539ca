package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
)

// Event types (pluginsdk.Event.Type, and "type" in the payload).
const (
	EventReply  = "sms_reply"  // an inbound message: a reply to a two-way survey
	EventStatus = "sms_status" // a delivery status callback of a sent message
)

// SignatureHeader carries Twilio's webhook signature.
const SignatureHeader = "X-Twilio-Signature"

// EmptyTwiML is the answer to every accepted webhook: no reply message.
const EmptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// maxParams bounds the form of one webhook.
const maxParams = 200

// Sign returns the X-Twilio-Signature of a request to fullURL with the POST
// parameters params: base64(HMAC-SHA1(authToken, fullURL + each parameter
// name and value, sorted by name)).
func Sign(authToken, fullURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		vs := append([]string(nil), params[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signedURLs are the URLs a signature may cover: the one called and, since
// Twilio's own validators accept both, the same with the scheme's default
// port added or removed.
func signedURLs(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return out
	}
	def := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	switch port := u.Port(); {
	case def == "":
	case port == "":
		v := *u
		v.Host = u.Host + ":" + def
		out = append(out, v.String())
	case port == def:
		v := *u
		v.Host = u.Hostname()
		if strings.Contains(v.Host, ":") {
			v.Host = "[" + v.Host + "]"
		}
		out = append(out, v.String())
	}
	return out
}

// Receive accepts an inbound SMS or a status callback, checks its
// signature, and turns it into one event.
func (c *Connector) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("receive: %v", context.Cause(ctx))
	}
	if req.Method != http.MethodPost {
		return nil, &pluginsdk.Error{Code: "method_not_allowed", Status: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("method %s is not allowed; configure the Twilio webhook with HTTP POST", req.Method)}
	}
	if mt, _, _ := mime.ParseMediaType(req.HeaderValue("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, &pluginsdk.Error{Code: "unsupported_media_type", Status: http.StatusUnsupportedMediaType,
			Message: fmt.Sprintf("content type %q: Twilio SMS webhooks are application/x-www-form-urlencoded", req.HeaderValue("Content-Type"))}
	}
	if err := c.verify(req); err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return nil, pluginsdk.BadRequest("form body: %v", err)
	}
	if len(form) > maxParams {
		return nil, pluginsdk.BadRequest("form body has %d parameters, at most %d", len(form), maxParams)
	}
	ev, err := eventFor(form)
	if err != nil {
		return nil, err
	}
	return &pluginsdk.ReceiveResult{
		Events: []pluginsdk.Event{ev},
		Response: pluginsdk.HTTPResponse{
			Status: http.StatusOK,
			Header: map[string][]string{"Content-Type": {"text/xml; charset=utf-8"}},
			Body:   []byte(EmptyTwiML),
		},
	}, nil
}

// verify checks X-Twilio-Signature over the URL the hub was called at and
// the raw form parameters, before anything in them is used.
func (c *Connector) verify(req *pluginsdk.HTTPRequest) *pluginsdk.Error {
	if req.HeaderValue("X-Twilio-Webhooks-Signature-Settings") != "" {
		return pluginsdk.Unauthorized("the webhook is signed under a Twilio Webhooks Rule (X-Twilio-Webhooks-Signature-Settings), which this connector does not verify; remove the rule for this URL")
	}
	got := req.HeaderValue(SignatureHeader)
	if got == "" {
		return pluginsdk.Unauthorized("missing %s header: only Twilio may post to this URL", SignatureHeader)
	}
	if c.token == nil {
		return pluginsdk.Unauthorized("cannot verify %s: auth uses an API key, so set config.webhook_auth_token to the account's Auth Token", SignatureHeader)
	}
	// Parsed here only for the signature; the values signed are the
	// decoded ones, exactly as Twilio's validators use them.
	params, err := url.ParseQuery(string(req.Body))
	if err != nil {
		params = url.Values{}
	}
	full := req.URL
	if full == "" {
		full = strings.TrimSuffix(c.baseURL, "/") + "/hooks/" + c.conn + req.Path
	}
	ok := 0
	for _, u := range signedURLs(full) {
		want := Sign(string(c.token), u, params)
		ok |= subtle.ConstantTimeCompare([]byte(want), []byte(got))
	}
	if ok != 1 {
		return &pluginsdk.Error{Code: "forbidden", Status: http.StatusForbidden, Message: fmt.Sprintf(
			"%s does not match a request to %s signed with the Auth Token: check the Auth Token, and that Settings.public_url is the base URL Twilio calls", SignatureHeader, full)}
	}
	return nil
}

// eventFor turns the webhook's parameters into an event: a status callback
// when it carries MessageStatus, else an inbound message.
func eventFor(form url.Values) (pluginsdk.Event, error) {
	sid := form.Get("MessageSid")
	if sid == "" {
		sid = form.Get("SmsSid")
	}
	if sid == "" {
		return pluginsdk.Event{}, pluginsdk.BadRequest("MessageSid is missing: not a Twilio messaging webhook")
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		params[k] = strings.Join(vs, ",")
	}
	payload := map[string]any{
		"messageSid": sid,
		"accountSid": form.Get("AccountSid"),
		"from":       form.Get("From"),
		"to":         form.Get("To"),
		"params":     params,
	}
	if v := form.Get("MessagingServiceSid"); v != "" {
		payload["messagingServiceSid"] = v
	}
	ev := pluginsdk.Event{}
	if status := form.Get("MessageStatus"); status != "" {
		ev.Type, ev.DedupKey = EventStatus, sid+"/"+status
		payload["status"] = status
		if code := form.Get("ErrorCode"); code != "" {
			payload["errorCode"] = code
		}
	} else {
		ev.Type, ev.DedupKey = EventReply, sid
		payload["body"] = form.Get("Body")
		n, _ := strconv.Atoi(form.Get("NumMedia"))
		media := []string{}
		for i := 0; i < n && i < 10; i++ {
			if u := form.Get("MediaUrl" + strconv.Itoa(i)); u != "" {
				media = append(media, u)
			}
		}
		payload["numMedia"] = n
		payload["mediaUrls"] = media
	}
	payload["type"] = ev.Type
	b, err := json.Marshal(payload)
	if err != nil {
		return pluginsdk.Event{}, pluginsdk.BadRequest("encode event: %v", err)
	}
	ev.Payload = b
	return ev, nil
}
