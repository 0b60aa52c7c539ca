// Package oauth is an OAuth 2.0 client-credentials token source (RFC 6749
// section 4.4) for builtin connectors whose connection has `auth: {type:
// oauth2, token_url, client_id, client_secret, scopes}`.
//
// Tokens are requested through the connection's guarded pluginsdk.HTTPClient
// (so the token URL is subject to the same allow-list and SSRF guard as every
// other call), cached until shortly before they expire, and shared by
// concurrent callers: one request refreshes the token for all of them. A
// caller that gets 401 from the API calls Invalidate, or uses Do, which does
// that and retries once.
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

// AuthStyle says where the client credentials go in the token request.
type AuthStyle int

const (
	// AuthHeader sends them as HTTP Basic auth (RFC 6749 2.3.1, preferred).
	AuthHeader AuthStyle = iota
	// AuthBody sends client_id and client_secret as form parameters, for
	// servers that accept nothing else (Marketo's identity endpoint).
	AuthBody
)

// Config configures a TokenSource.
type Config struct {
	TokenURL     string
	ClientID     string
	ClientSecret string
	Scopes       []string
	Style        AuthStyle
	// Margin is how long before expiry a token is refreshed. Default 60s,
	// but never more than a tenth of the token's lifetime.
	Margin time.Duration
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// TokenSource hands out a cached access token.
type TokenSource struct {
	http pluginsdk.HTTPClient
	cfg  Config

	mu      sync.Mutex // held across a refresh: concurrent callers share it
	token   string
	refresh time.Time // zero: no expiry known, valid until Invalidate
}

// New returns a token source using client for the token requests.
func New(client pluginsdk.HTTPClient, cfg Config) (*TokenSource, error) {
	if cfg.TokenURL == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, pluginsdk.Errorf("oauth2 client credentials need token_url, client_id and client_secret")
	}
	u, err := url.Parse(cfg.TokenURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, pluginsdk.Errorf("oauth2 token_url %q: want an http(s) URL", cfg.TokenURL)
	}
	if cfg.Margin <= 0 {
		cfg.Margin = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &TokenSource{http: client, cfg: cfg}, nil
}

// FromAuth builds a token source from a connection's auth block.
func FromAuth(client pluginsdk.HTTPClient, a pluginsdk.Auth, style AuthStyle) (*TokenSource, error) {
	if a.Type != pluginsdk.AuthOAuth2 {
		return nil, pluginsdk.Errorf("auth type %q is not oauth2", a.Type)
	}
	return New(client, Config{TokenURL: a.TokenURL, ClientID: a.ClientID, ClientSecret: a.ClientSecret, Scopes: a.Scopes, Style: style})
}

// Token returns a valid access token, requesting a new one when the cached
// one is missing or about to expire.
func (s *TokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && (s.refresh.IsZero() || s.cfg.Now().Before(s.refresh)) {
		return s.token, nil
	}
	tok, lifetime, err := s.request(ctx)
	if err != nil {
		return "", err
	}
	s.token, s.refresh = tok, time.Time{}
	if lifetime > 0 {
		s.refresh = s.cfg.Now().Add(lifetime - min(s.cfg.Margin, lifetime/10))
	}
	return tok, nil
}

// Invalidate drops the cached token (the API answered 401 with it).
func (s *TokenSource) Invalidate() {
	s.mu.Lock()
	s.token, s.refresh = "", time.Time{}
	s.mu.Unlock()
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
	switch s.cfg.Style {
	case AuthBody:
		form.Set("client_id", s.cfg.ClientID)
		form.Set("client_secret", s.cfg.ClientSecret)
	default:
		// RFC 6749 2.3.1: both parts are form-encoded before Basic encoding.
		cred := url.QueryEscape(s.cfg.ClientID) + ":" + url.QueryEscape(s.cfg.ClientSecret)
		header["Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(cred))}
	}
	resp, err := s.http.Do(ctx, &pluginsdk.HTTPRequest{Method: "POST", URL: s.cfg.TokenURL, Header: header, Body: []byte(form.Encode())})
	if err != nil {
		e := pluginsdk.AsError(err)
		return "", 0, &pluginsdk.Error{Code: "oauth_token", Message: "oauth2 token request to " + s.cfg.TokenURL + ": " + e.Message, Retryable: e.Retryable, RetryAfter: e.RetryAfter}
	}
	var tr tokenResponse
	jerr := json.Unmarshal(resp.Body, &tr)
	if resp.Status < 200 || resp.Status > 299 {
		msg := fmt.Sprintf("oauth2 token request to %s: HTTP %d", s.cfg.TokenURL, resp.Status)
		if jerr == nil && tr.Error != "" {
			msg += ": " + tr.Error
			if tr.Description != "" {
				msg += " (" + tr.Description + ")"
			}
		}
		// Bad credentials stay bad; a server error or rate limit may pass.
		retry := resp.Status >= 500 || resp.Status == 429 || resp.Status == 408
		return "", 0, &pluginsdk.Error{Code: "oauth_token", Message: msg, Retryable: retry}
	}
	if jerr != nil || tr.AccessToken == "" {
		return "", 0, &pluginsdk.Error{Code: "oauth_token", Message: fmt.Sprintf("oauth2 token response from %s has no access_token", s.cfg.TokenURL)}
	}
	if tr.TokenType != "" && !strings.EqualFold(tr.TokenType, "bearer") {
		return "", 0, &pluginsdk.Error{Code: "oauth_token", Message: fmt.Sprintf("oauth2 token type %q from %s: only bearer tokens are supported", tr.TokenType, s.cfg.TokenURL)}
	}
	return tr.AccessToken, expiresIn(tr.ExpiresIn), nil
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
