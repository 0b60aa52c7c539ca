package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
)

// minTokenLen is the shortest path token accepted: the token is the only
// secret in a Salesforce outbound message, so it must not be guessable.
// `junction connection key rotate` makes 47-character ones.
const minTokenLen = 16

// pathToken checks the connection's auth and returns the SHA-256 of its
// path token, or nil with auth none.
func pathToken(a pluginsdk.Auth) ([]byte, error) {
	switch a.Type {
	case "", pluginsdk.AuthNone:
		return nil, nil
	case pluginsdk.AuthAPIKey:
	default:
		return nil, fmt.Errorf("auth: type %s is not used: Salesforce sends no credentials; use api_key, whose secret is the path token of the Endpoint URL (/hooks/<connection>/<token>)", a.Type)
	}
	tok := a.Secret
	if len(tok) < minTokenLen {
		return nil, fmt.Errorf("auth.secret: the path token has %d characters; use at least %d random ones (junction connection key rotate makes one)", len(tok), minTokenLen)
	}
	for i := 0; i < len(tok); i++ {
		if c := tok[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.' || c == '~') {
			return nil, fmt.Errorf("auth.secret: the path token may hold only letters, digits, -, _, . and ~, so that it goes into the Endpoint URL as written")
		}
	}
	sum := sha256.Sum256([]byte(tok))
	return sum[:], nil
}

// checkToken compares the request's path (what follows /hooks/<connection>)
// with the path token, in constant time: comparing digests keeps the
// token's length secret too. It returns why a request is refused, never
// echoing what was sent.
func (s *Salesforce) checkToken(path string) string {
	got := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/")
	if s.token == nil {
		if got != "" {
			return "this connection takes no path token: its Endpoint URL is /hooks/<connection> (auth type none)"
		}
		return ""
	}
	if got == "" {
		return "missing path token: the Endpoint URL of the outbound message must be https://<host>/hooks/<connection>/<token>"
	}
	sum := sha256.Sum256([]byte(got))
	if subtle.ConstantTimeCompare(sum[:], s.token) != 1 {
		return "wrong path token in the Endpoint URL (was the key rotated? `junction connection key show <connection>` prints the current one)"
	}
	return ""
}
