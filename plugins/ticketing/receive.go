package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
)

// webhook is the part of a help-desk delivery the connector reads; the
// payload is stored whole, untouched.
type webhook struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Receive verifies the signature over the raw body, before parsing
// anything, then stores the delivery as one event. The help desk resends
// a delivery it saw fail under the same id: DedupKey lets the host drop
// the copy.
func (t *Ticketing) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("receive: %v", err)
	}
	if !validSignature(t.secret, req.Body, req.HeaderValue(SignatureHeader)) {
		return nil, pluginsdk.Unauthorized("%s does not match the body: check signing_secret against the help desk's webhook secret", SignatureHeader)
	}
	var w webhook
	if err := json.Unmarshal(req.Body, &w); err != nil {
		return nil, pluginsdk.BadRequest("body: want one JSON object: %v", err)
	}
	if w.ID == "" || w.Type == "" {
		return nil, pluginsdk.BadRequest("body: a delivery needs an id and a type")
	}
	return &pluginsdk.ReceiveResult{
		Events:   []pluginsdk.Event{{Payload: req.Body, DedupKey: w.ID, Type: w.Type}},
		Response: pluginsdk.HTTPResponse{Status: 200, Body: []byte(`{"ok":true}`)},
	}, nil
}

// validSignature compares "sha256=<hex>" with the body's HMAC in constant
// time.
func validSignature(secret, body []byte, header string) bool {
	got, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(header), "sha256="))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), got)
}

// Sign returns the header value the help desk sends for body: tests and
// senders use it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
