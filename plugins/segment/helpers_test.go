package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/plugintest"
)

// The credentials of the fixtures: the batch's writeKey and the shared
// secret webhook-signed-body.json was signed with.
const (
	writeKey     = "WRITE_KEY_EXAMPLE"
	sharedSecret = "example-shared-secret"
)

var (
	goodConfig = json.RawMessage(`{"shared_secret": "` + sharedSecret + `", "dedup_window": "24h"}`)
	goodAuth   = pluginsdk.Auth{Type: pluginsdk.AuthAPIKey, Secret: writeKey}
)

// fixture reads testdata/name as it is on disk.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compact reads a fixture and compacts it, as an SDK would serialize it.
func compact(t testing.TB, name string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, fixture(t, name)); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return buf.Bytes()
}

func sign(secret string, body []byte) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func basic(user string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"))
}

// webhookPost is what the Webhooks destination sends: the body signed with
// the shared secret.
func webhookPost(body []byte) pluginsdk.HTTPRequest {
	return pluginsdk.HTTPRequest{Method: "POST", URL: "http://junction.test/hooks/test", Body: body,
		Header: map[string][]string{
			"Content-Type": {"application/json"},
			"User-Agent":   {"Segment.io/1.0"},
			"X-Signature":  {sign(sharedSecret, body)},
		}}
}

// sdkPost is what an official SDK sends to the Tracking API.
func sdkPost(path string, body []byte) pluginsdk.HTTPRequest {
	return pluginsdk.HTTPRequest{Method: "POST", URL: "http://junction.test/hooks/test" + path, Path: path, Body: body,
		Header: map[string][]string{
			"Content-Type":  {"application/json"},
			"User-Agent":    {"analytics-node-next/latest"},
			"Authorization": {basic(writeKey)},
		}}
}

func withHeader(r pluginsdk.HTTPRequest, k, v string) pluginsdk.HTTPRequest {
	h := make(map[string][]string, len(r.Header)+1)
	for hk, hv := range r.Header {
		h[hk] = hv
	}
	if v == "" {
		delete(h, k)
	} else {
		h[k] = []string{v}
	}
	r.Header = h
	return r
}

// configured returns a native connector configured with config and auth.
func configured(t testing.TB, config json.RawMessage, auth pluginsdk.Auth) *Segment {
	t.Helper()
	s := &Segment{}
	if err := s.Configure(context.Background(), plugintest.NewHost(t).Context(config, auth)); err != nil {
		t.Fatalf("Configure(%s): %v", config, err)
	}
	return s
}

// decode unmarshals a payload for assertions.
func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("payload %.80q: %v", b, err)
	}
	return m
}

// statusOf returns the HTTP status a Receive outcome is answered with.
func statusOf(res *pluginsdk.ReceiveResult, err error) int {
	if err != nil {
		return pluginsdk.AsError(err).Status
	}
	return res.Response.Status
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
