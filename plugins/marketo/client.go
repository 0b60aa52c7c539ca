package main

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// tokenKey holds the access token in the connection's KV, shared by the
// pool's instances (each of which would otherwise ask for its own) and kept
// across restarts until it expires. The value is {"access_token",
// "refresh_at"}; the entry's TTL ends it at refresh_at too.
const tokenKey = "oauth/token"

var (
	tokenPaths  = fields.MustCompile("$.access_token", "$.expires_in", "$.error", "$.error_description")
	cachedPaths = fields.MustCompile("$.access_token", "$.refresh_at")
)

// accessToken returns a token that is not `rejected` (one Marketo just
// refused with 601/602): this instance's copy, else the shared one in KV,
// else a new one from the identity endpoint.
func (m *Marketo) accessToken(ctx context.Context, rejected string) (string, error) {
	t := &m.tok
	t.mu.Lock()
	defer t.mu.Unlock()
	now := m.now()
	if t.token != "" && t.token != rejected && now.Before(t.refreshAt) {
		return t.token, nil
	}
	if kv := m.pc.KV; kv != nil {
		v, found, err := kv.Get(ctx, tokenKey)
		switch {
		case err != nil:
			m.logDebug("marketo token cache unavailable", "err", err)
		case found:
			if tok, at, ok := parseCachedToken(v); ok && tok != rejected && now.Before(at) {
				t.token, t.refreshAt = tok, at
				return tok, nil
			}
		}
	}
	tok, ttl, err := m.requestToken(ctx)
	if err != nil {
		return "", err
	}
	// Refresh a little before Marketo's expiry so a token does not lapse in
	// flight — but never more than a tenth of its life: Marketo hands out
	// the same token, with the seconds it has left, until it expires.
	life := ttl - min(time.Minute, ttl/10)
	t.token, t.refreshAt = tok, now.Add(life)
	if kv := m.pc.KV; kv != nil && life > 0 {
		o := fields.NewObject(make([]byte, 0, 96))
		o.String("access_token", tok)
		o.String("refresh_at", t.refreshAt.UTC().Format(time.RFC3339Nano))
		if err := kv.Set(ctx, tokenKey, o.Bytes(), life); err != nil {
			m.logDebug("marketo token not shared", "err", err)
		}
	}
	return tok, nil
}

func parseCachedToken(v []byte) (string, time.Time, bool) {
	var f [2][]byte
	if cachedPaths.Extract(v, f[:]) != nil {
		return "", time.Time{}, false
	}
	tok, ok1 := fields.String(f[0])
	at, ok2 := fields.String(f[1])
	if !ok1 || !ok2 || tok == "" {
		return "", time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, at)
	return tok, t, err == nil
}

// forget drops this instance's token when Marketo refused it. The shared
// copy is skipped by accessToken and overwritten by the next refresh.
func (m *Marketo) forget(token string) {
	m.tok.mu.Lock()
	defer m.tok.mu.Unlock()
	if m.tok.token == token {
		m.tok.token = ""
	}
}

// requestToken asks the identity endpoint for a client-credentials token:
// GET /identity/oauth/token?grant_type=client_credentials&client_id=…&client_secret=….
// The host redacts the query from its logs and errors.
func (m *Marketo) requestToken(ctx context.Context) (string, time.Duration, error) {
	sep := "?"
	if strings.Contains(m.cfg.tokenURL, "?") {
		sep = "&"
	}
	u := m.cfg.tokenURL + sep + "grant_type=client_credentials&client_id=" + url.QueryEscape(m.cfg.clientID) +
		"&client_secret=" + url.QueryEscape(m.cfg.clientSecret)
	resp, err := m.pc.HTTP.Do(ctx, &pluginsdk.HTTPRequest{Method: "GET", URL: u, Header: acceptJSON})
	if err != nil {
		return "", 0, wrapHostError("marketo token request", err)
	}
	var v [4][]byte
	parseErr := tokenPaths.Extract(resp.Body, v[:])
	tok, _ := fields.String(v[0])
	if resp.Status == 200 && parseErr == nil && tok != "" {
		secs, _ := fields.Float(v[1])
		return tok, time.Duration(secs) * time.Second, nil
	}
	code, _ := fields.String(v[2])
	desc, _ := fields.String(v[3])
	detail := strings.TrimSpace(code + ": " + desc)
	if code == "" && desc == "" {
		detail = "no access_token in the answer"
	}
	if resp.Status == 429 || resp.Status >= 500 {
		return "", 0, &pluginsdk.Error{Code: "marketo_token", Retryable: true, RetryAfter: retryAfter(resp),
			Message: "marketo token request: HTTP " + strconv.Itoa(resp.Status) + ": " + detail}
	}
	return "", 0, &pluginsdk.Error{Code: "marketo_token",
		Message: "marketo token request: HTTP " + strconv.Itoa(resp.Status) + ": " + detail + " (check auth client_id and client_secret, and the API user's role)"}
}

var acceptJSON = map[string][]string{"Accept": {"application/json"}}

// call makes one REST call: within the rate budget, with a bearer token, and
// once more with a new token when Marketo says the token is invalid (601) or
// expired (602). path starts with /rest; query is already encoded.
func (m *Marketo) call(ctx context.Context, method, path, query string, body []byte) (response, error) {
	what := method + " " + path
	select {
	case m.sem <- struct{}{}:
		defer func() { <-m.sem }()
	case <-ctx.Done():
		return response{}, pluginsdk.Retryable("%s: waiting for a free call slot: %v", what, ctx.Err())
	}
	u := m.cfg.base + path
	if query != "" {
		u += "?" + query
	}
	rejected := ""
	for attempt := 0; ; attempt++ {
		if err := m.limit.take(ctx, m.now()); err != nil {
			return response{}, err
		}
		tok, err := m.accessToken(ctx, rejected)
		if err != nil {
			return response{}, err
		}
		hdr := m.headers(tok, body != nil)
		resp, err := m.pc.HTTP.Do(ctx, &pluginsdk.HTTPRequest{Method: method, URL: u, Header: hdr, Body: body})
		if err != nil {
			return response{}, wrapHostError(what, err)
		}
		if resp.Status != 200 {
			return response{}, statusError(what, resp)
		}
		r, err := parseResponse(resp.Body)
		if err != nil {
			// A 200 that is not Marketo's JSON comes from something in
			// between (a proxy, a maintenance page): worth another try.
			return response{}, pluginsdk.Retryable("%s: unreadable answer: %v", what, err)
		}
		if r.success {
			return r, nil
		}
		if tokenError(r) && attempt == 0 {
			m.forget(tok)
			rejected = tok
			continue
		}
		return r, errorOf(what, r)
	}
}

// headers returns the request headers for token, built once per token: a
// map costs microseconds to build in a Go Wasm guest, and the host only
// reads it.
func (m *Marketo) headers(token string, withBody bool) map[string][]string {
	m.tok.mu.Lock()
	defer m.tok.mu.Unlock()
	h := &m.tok.hdr
	if h.token != token {
		auth := []string{"Bearer " + token}
		h.token = token
		h.get = map[string][]string{"Authorization": auth, "Accept": acceptJSON["Accept"]}
		h.post = map[string][]string{"Authorization": auth, "Accept": acceptJSON["Accept"], "Content-Type": {"application/json"}}
	}
	if withBody {
		return h.post
	}
	return h.get
}

// wrapHostError keeps a host error's kind (retryable or not) and names the call.
func wrapHostError(what string, err error) error {
	var pe *pluginsdk.Error
	if errors.As(err, &pe) {
		return &pluginsdk.Error{Code: pe.Code, Message: what + ": " + pe.Message, Retryable: pe.Retryable, RetryAfter: pe.RetryAfter}
	}
	return pluginsdk.Retryable("%s: %v", what, err)
}

// statusError maps a non-200 HTTP status: 429 and 5xx are retryable, the
// rest permanent.
func statusError(what string, resp *pluginsdk.HTTPResponse) error {
	snippet := strings.TrimSpace(string(resp.Body))
	if len(snippet) > 200 {
		snippet = snippet[:200] + "…"
	}
	pe := &pluginsdk.Error{Code: "http_" + strconv.Itoa(resp.Status), Message: what + ": HTTP " + strconv.Itoa(resp.Status)}
	if snippet != "" {
		pe.Message += ": " + snippet
	}
	if resp.Status == 429 || resp.Status >= 500 {
		pe.Retryable, pe.RetryAfter = true, retryAfter(resp)
	}
	return pe
}

// retryAfter reads a Retry-After header given in seconds.
func retryAfter(resp *pluginsdk.HTTPResponse) time.Duration {
	for k, vs := range resp.Header {
		if strings.EqualFold(k, "Retry-After") && len(vs) > 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(vs[0])); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	return 0
}

func (m *Marketo) logDebug(msg string, args ...any) {
	if m.pc != nil && m.pc.Log != nil {
		m.pc.Log.Debug(msg, args...)
	}
}
