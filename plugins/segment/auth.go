package main

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
)

// proof is what a request's headers prove about its sender.
type proof int

const (
	// noProof: the headers carry no credential this connection checks; the
	// body's writeKey may still prove the sender.
	noProof proof = iota
	proven
)

// checkHeaders verifies the credentials a request carries in its headers,
// over the raw body and before any parsing:
//
//   - X-Signature (Webhooks destination), when a shared secret is set:
//     hex(HMAC-SHA1(secret, body)), compared in constant time;
//   - Authorization: Basic with the write key as user (Tracking API), when
//     a write key is set; the SDKs send "writeKey:" base64-encoded, some
//     older ones the bare write key.
//
// A credential that is present but wrong is refused at once (401), never
// passed over for another.
func (s *Segment) checkHeaders(req *pluginsdk.HTTPRequest) (proof, error) {
	if s.secret != nil {
		if sig := req.HeaderValue("X-Signature"); sig != "" {
			if !validSignature(s.secret, req.Body, sig) {
				return noProof, pluginsdk.Unauthorized("X-Signature does not match the body: check the shared_secret of this connection against the Segment Webhooks destination's Shared Secret")
			}
			return proven, nil
		}
	}
	if s.hasKey {
		if authz := req.HeaderValue("Authorization"); authz != "" {
			user, ok := basicUser(authz)
			if !ok {
				return noProof, pluginsdk.Unauthorized("Authorization header is not HTTP Basic credentials; the Segment write key goes in the user name")
			}
			if !s.keyMatches(user) {
				return noProof, pluginsdk.Unauthorized("the write key in the Authorization header is not this connection's")
			}
			return proven, nil
		}
	}
	return noProof, nil
}

// missingProof is the refusal of a request that proved nothing, or nil
// when the connection checks no credentials at all.
func (s *Segment) missingProof() error {
	switch {
	case s.hasKey:
		return pluginsdk.Unauthorized("no credentials: send the write key as the HTTP basic-auth user (or writeKey in the body), or sign the body with X-Signature")
	case s.secret != nil:
		return pluginsdk.Unauthorized("no X-Signature header: this connection has a shared_secret, so Segment must sign its posts")
	}
	return nil
}

func (s *Segment) keyMatches(key string) bool {
	d := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(d[:], s.keyDigest[:]) == 1
}

func validSignature(secret, body []byte, sig string) bool {
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil || len(got) != sha1.Size {
		return false
	}
	mac := hmac.New(sha1.New, secret)
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), got)
}

// basicUser returns the user of HTTP Basic credentials; without a colon
// the whole decoded value is the user.
func basicUser(authz string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(authz), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", false
	}
	user, _, _ := strings.Cut(string(dec), ":")
	return user, true
}
