// Package oauth is an OAuth 2.0 client-credentials token source (RFC 6749
// section 4.4) for builtin connectors whose connection has `auth: {type:
// oauth2, token_url, client_id, client_secret, scopes, audience}` (the
// webhook connector's post). Client credentials go in HTTP Basic auth, as
// RFC 6749 2.3.1 prefers.
//
// Tokens are requested through the connection's guarded pluginsdk.HTTPClient
// (so the token URL is subject to the same allow-list and SSRF guard as every
// other call), cached until shortly before they expire, and shared by
// concurrent callers: one request refreshes the token for all of them. Do
// sends a request with the token and, on 401, refreshes it and tries once
// more. Neither the secret nor a token is ever logged or put in an error.
package oauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Config configures a TokenSource.
type Config struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	// Audience, when set, is sent as the audience parameter: servers such as
	// Auth0 issue a token for one API and need to be told which.
	Audience string
	// Margin is how long before expiry a token is refreshed. Default 60s,
	// but never more than a tenth of the token's lifetime.
	Margin time.Duration
	// Timeout bounds one token request (default 30s). The request is not
	// tied to the context of the caller that started it: callers waiting on
	// it give up with their own context, the request goes on for the rest.
	Timeout time.Duration
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// DefaultTokenTimeout bounds a token request when Config.Timeout is zero.
const DefaultTokenTimeout = 30 * time.Second

// TokenSource hands out a cached access token. It is safe for concurrent
// use.
type TokenSource struct {
	http pluginsdk.HTTPClient
	cfg  Config

	mu      sync.Mutex
	token   string
	refresh time.Time // zero: no expiry known, valid until a 401
	flight  *flight   // the token request under way; nil when none
}

// flight is one token request that every caller needing a token waits on
// (a singleflight): a burst of posts after expiry makes one request.
type flight struct {
	done  chan struct{}
	token string
	err   error
}

// New returns a token source using client for the token requests.
func New(client pluginsdk.HTTPClient, cfg Config) (*TokenSource, error) {
	if cfg.TokenURL == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, pluginsdk.Errorf("oauth2 client credentials need token_url, client_id and client_secret")
	}
	u, err := url.Parse(cfg.TokenURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, pluginsdk.Errorf("oauth2 token_url %q: want an http(s) URL", redactURL(cfg.TokenURL))
	}
	if cfg.Margin <= 0 {
		cfg.Margin = time.Minute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTokenTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &TokenSource{http: client, cfg: cfg}, nil
}

// FromAuth builds a token source from a connection's auth block; client
// must be the connection's guarded HTTP client.
func FromAuth(client pluginsdk.HTTPClient, a pluginsdk.Auth) (*TokenSource, error) {
	if a.Type != pluginsdk.AuthOAuth2 {
		return nil, pluginsdk.Errorf("auth type %q is not oauth2", a.Type)
	}
	return New(client, Config{TokenURL: a.TokenURL, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Scopes: a.Scopes, Audience: a.Audience})
}

// Token returns a valid access token, requesting a new one when the cached
// one is missing or about to expire. Concurrent callers share one request.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	if s.token != "" && (s.refresh.IsZero() || s.cfg.Now().Before(s.refresh)) {
		tok := s.token
		s.mu.Unlock()
		return tok, nil
	}
	f := s.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.flight = f
		go s.fetch(context.WithoutCancel(ctx), f)
	}
	s.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", pluginsdk.Retryable("oauth2 token request to %s: %v", redactURL(s.cfg.TokenURL), context.Cause(ctx))
	}
}

// fetch runs one token request and publishes its result.
func (s *TokenSource) fetch(ctx context.Context, f *flight) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	tok, lifetime, err := s.request(ctx)
	s.mu.Lock()
	if err == nil {
		s.token, s.refresh = tok, time.Time{}
		if lifetime > 0 {
			s.refresh = s.cfg.Now().Add(lifetime - min(s.cfg.Margin, lifetime/10))
		}
	}
	s.flight = nil
	f.token, f.err = tok, err
	s.mu.Unlock()
	close(f.done)
}

// invalidate drops tok only if it is still the cached token, so that
// callers that all got 401 with one token cause one refresh, not several.
func (s *TokenSource) invalidate(tok string) {
	s.mu.Lock()
	if s.token == tok {
		s.token, s.refresh = "", time.Time{}
	}
	s.mu.Unlock()
}

type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	Error       string          `json:"error"`
	Description string          `json:"error_description"`
}

func (s *TokenSource) request(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if len(s.cfg.Scopes) > 0 {
		form.Set("scope", strings.Join(s.cfg.Scopes, " "))
	}
	header := map[string][]string{
		"Content-Type": {"application/x-www-form-urlencoded"},
		"Accept":       {"application/json"},
	}
	if s.cfg.Audience != "" {
		form.Set("audience", s.cfg.Audience)
	}
	// RFC 6749 2.3.1: both parts are form-encoded before Basic encoding.
	cred := url.QueryEscape(s.cfg.ClientID) + ":" + url.QueryEscape(s.cfg.ClientSecret)
	header["Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(cred))}
	where := redactURL(s.cfg.TokenURL)
	resp, err := s.http.Do(ctx, &pluginsdk.HTTPRequest{Method: "POST", URL: s.cfg.TokenURL, Header: header, Body: []byte(form.Encode())})
	if err != nil {
		e := pluginsdk.AsError(err)
		return "", 0, &pluginsdk.Error{Code: "oauth_token", Message: "oauth2 token request to " + where + ": " + e.Message, Retryable: e.Retryable, RetryAfter: e.RetryAfter}
	}
	var tr tokenResponse
	jerr := json.Unmarshal(resp.Body, &tr)
	if resp.Status < 200 || resp.Status > 299 {
		return "", 0, tokenError(where, resp.Status, tr, jerr == nil)
	}
	if jerr != nil || tr.AccessToken == "" {
		return "", 0, &pluginsdk.Error{Code: "oauth_token", Message: fmt.Sprintf("oauth2 token response from %s has no access_token", where)}
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, &pluginsdk.Error{Code: "oauth_token", Message: fmt.Sprintf("oauth2 token type %q from %s: only bearer tokens are supported", tr.TokenType, where)}
	}
	return tr.AccessToken, expiresIn(tr.ExpiresIn), nil
}

// hints say what to fix for the RFC 6749 5.2 error codes an operator can
// act on.
var hints = map[string]string{
	"invalid_client":         "the token endpoint refused the client credentials; check auth.client_id and auth.client_secret",
	"unauthorized_client":    "this client may not use the client_credentials grant; enable it for the client at the authorization server",
	"invalid_scope":          "the token endpoint refused the scopes; check auth.scopes",
	"invalid_request":        "the token endpoint refused the request; check auth.token_url, auth.scopes and auth.audience",
	"unsupported_grant_type": "the token endpoint does not offer the client_credentials grant",
}

// tokenError describes a refused token request. Refused credentials stay
// refused until someone changes them, so only a server error, a timeout or
// a rate limit is retryable.
func tokenError(where string, status int, tr tokenResponse, parsed bool) *pluginsdk.Error {
	msg := fmt.Sprintf("oauth2 token request to %s: HTTP %d", where, status)
	code := "oauth_token"
	if parsed && tr.Error != "" {
		msg += ": " + tr.Error
		if tr.Description != "" {
			msg += " (" + tr.Description + ")"
		}
		if h, ok := hints[tr.Error]; ok {
			msg += ": " + h
			code = "oauth_" + tr.Error
		}
	} else if status == 401 {
		msg += ": " + hints["invalid_client"]
		code = "oauth_invalid_client"
	}
	retry := status >= 500 || status == 429 || status == 408
	return &pluginsdk.Error{Code: code, Message: msg, Retryable: retry}
}

// redactURL drops userinfo and query, which may carry credentials, from a
// token URL quoted in an error.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// expiresIn reads expires_in, which some servers send as a string.
func expiresIn(raw json.RawMessage) time.Duration {
	s := strings.Trim(string(raw), `"`)
	if s == "" || s == "null" {
		return 0
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n * float64(time.Second))
}

// Do sends req with the bearer token; on 401 it invalidates the token and
// tries once more with a fresh one.
func (s *TokenSource) Do(ctx context.Context, client pluginsdk.HTTPClient, req *pluginsdk.HTTPRequest) (*pluginsdk.HTTPResponse, error) {
	for attempt := 0; ; attempt++ {
		tok, err := s.Token(ctx)
		if err != nil {
			return nil, err
		}
		r := *req
		r.Header = make(map[string][]string, len(req.Header)+1)
		for k, v := range req.Header {
			r.Header[k] = v
		}
		r.Header["Authorization"] = []string{"Bearer " + tok}
		resp, err := client.Do(ctx, &r)
		if err != nil || resp.Status != 401 || attempt > 0 {
			return resp, err
		}
		s.invalidate(tok)
	}
}
