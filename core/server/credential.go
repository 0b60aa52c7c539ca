package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
)

// checkCredential is the host's header auth of an inbound push, done before
// its body is read or decompressed, so an unauthenticated caller costs no
// more than its headers. The connector's declared places (Spec.Push) are
// looked at in order and the first one the request uses decides: compared
// with the connection's auth where the host can (api_key secret, basic
// username and password), present is enough where it cannot (a signature
// over the body). A request with none of them is refused, unless the
// connector takes credentials from the body too. The connector still
// does its own full check.
func checkCredential(req *pluginsdk.HTTPRequest, auth pluginsdk.Auth, creds []pluginsdk.Credential) error {
	if auth.Type == pluginsdk.AuthNone || auth.Type == "" || len(creds) == 0 {
		return nil
	}
	inBody := false
	var want []string
	for _, cr := range creds {
		present, ok := matchCredential(req, auth, cr)
		switch {
		case present && ok:
			return nil
		case present:
			return &hookError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "wrong credentials (" + describe(cr) + "): they do not match this connection's"}
		}
		if cr.In == pluginsdk.CredentialBody {
			inBody = true
		}
		want = append(want, describe(cr))
	}
	if inBody {
		return nil
	}
	return &hookError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: fmt.Sprintf(
		"no credentials: this connection needs the %s", strings.Join(want, " or the "))}
}

// matchCredential reports whether the request carries cr and, if so,
// whether it matches auth (true when the host cannot tell).
func matchCredential(req *pluginsdk.HTTPRequest, auth pluginsdk.Auth, cr pluginsdk.Credential) (present, ok bool) {
	switch cr.In {
	case pluginsdk.CredentialHeader:
		v := req.HeaderValue(cr.Name)
		if v == "" {
			return false, false
		}
		return true, auth.Type != pluginsdk.AuthAPIKey || sameSecret(v, auth.Secret)
	case pluginsdk.CredentialSignature:
		return req.HeaderValue(cr.Name) != "", true
	case pluginsdk.CredentialBasic:
		user, pass, isBasic := basicAuth(req.HeaderValue("Authorization"))
		if !isBasic {
			return false, false
		}
		switch auth.Type {
		case pluginsdk.AuthBasic:
			// Both compared, always: stopping at a wrong user would tell
			// a guesser which half was wrong.
			u, p := sameSecret(user, auth.Username), sameSecret(pass, auth.Password)
			return true, u && p
		case pluginsdk.AuthAPIKey:
			return true, sameSecret(user, auth.Secret)
		}
		return true, true
	case pluginsdk.CredentialPath:
		tok, _, _ := strings.Cut(strings.TrimPrefix(req.Path, "/"), "/")
		if tok == "" {
			return false, false
		}
		return true, auth.Type != pluginsdk.AuthAPIKey || sameSecret(tok, auth.Secret)
	}
	return false, false
}

func describe(cr pluginsdk.Credential) string {
	if cr.Says != "" {
		return cr.Says
	}
	switch cr.In {
	case pluginsdk.CredentialHeader:
		return cr.Name + " header"
	case pluginsdk.CredentialSignature:
		return cr.Name + " signature header"
	case pluginsdk.CredentialBasic:
		return "HTTP basic credentials (Authorization: Basic)"
	case pluginsdk.CredentialPath:
		return "secret token in the URL (/hooks/{connection}/{token})"
	case pluginsdk.CredentialBody:
		return "credential in the body"
	}
	return string(cr.In)
}

// sameSecret compares SHA-256 digests in constant time, so neither the
// content nor the length of the secret leaks through timing.
func sameSecret(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

// basicAuth decodes HTTP Basic credentials; without a colon the whole
// decoded value is the user (older Segment SDKs send the bare write key).
func basicAuth(h string) (user, pass string, ok bool) {
	scheme, cred, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	user, pass, _ = strings.Cut(string(dec), ":")
	return user, pass, true
}
