package main

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
)

// The web tag (GET <hook URL>/tag.js) is a hand-written script for sites
// without Segment's SDK: it sends Segment-spec page, track and identify
// calls to this same connection's Tracking API, so the workflows that serve
// analytics.js serve it too. It lives in the plugin, not the host, because
// it is Segment's wire format through and through, and a plugin is the
// only place that knows it.
//
// The script holds no secret: the page passes the write key in the
// <script data-write-key> attribute, as it would pass it to analytics.js.
// So the file may be served to anyone, cached by anyone, and is the same
// for every connection with the same tag settings.

//go:embed tag.js
var tagSource []byte

// TagConfig is config.tag: what the served script does about privacy.
type TagConfig struct {
	// RespectDNT: a browser that sends Do Not Track or Global Privacy
	// Control gets a tag that sends and stores nothing.
	RespectDNT *bool `json:"respect_dnt"`
	// RequireConsent: nothing is sent or stored until the page calls
	// junction.consent(true); calls made before are held in memory and
	// sent then, or forgotten on junction.consent(false).
	RequireConsent bool `json:"require_consent"`
}

// tagAsset is the script as served for one connection's settings.
type tagAsset struct {
	body []byte
	etag string
}

// tagCacheControl lets browsers and CDNs reuse the script for five
// minutes, then revalidate it with its ETag (a 304 costs a few bytes): a
// change of config.tag reaches visitors within minutes.
const tagCacheControl = "public, max-age=300"

func newTagAsset(c TagConfig) tagAsset {
	settings := struct {
		RespectDNT     bool `json:"respectDNT"`
		RequireConsent bool `json:"requireConsent"`
	}{RespectDNT: c.RespectDNT == nil || *c.RespectDNT, RequireConsent: c.RequireConsent}
	js, err := json.Marshal(settings)
	if err != nil {
		// Two booleans always encode.
		panic(err)
	}
	body := bytes.Replace(tagSource, []byte("/*CONFIG*/{}/*END*/"), js, 1)
	sum := sha256.Sum256(body)
	return tagAsset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
}

// isTagPath reports whether a request under the hook asks for the tag.
func isTagPath(p string) bool { return p == "/tag.js" }

// serveTag answers GET/HEAD <hook URL>/tag.js, or 304 when the browser's
// copy is current. Nothing is stored.
func (s *Segment) serveTag(req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if req.Method != "GET" && req.Method != "HEAD" {
		return nil, methodNotAllowed(req.Method, "GET")
	}
	h := map[string][]string{
		"Content-Type":           {"text/javascript; charset=utf-8"},
		"Cache-Control":          {tagCacheControl},
		"Etag":                   {s.tag.etag},
		"X-Content-Type-Options": {"nosniff"},
		// Pages that isolate themselves (COEP) may still load it.
		"Cross-Origin-Resource-Policy": {"cross-origin"},
	}
	if etagMatches(req.HeaderValue("If-None-Match"), s.tag.etag) {
		return &pluginsdk.ReceiveResult{Response: pluginsdk.HTTPResponse{Status: 304, Header: h}}, nil
	}
	return &pluginsdk.ReceiveResult{Response: pluginsdk.HTTPResponse{Status: 200, Header: h, Body: s.tag.body}}, nil
}

// etagMatches implements If-None-Match's weak comparison (RFC 9110
// 13.1.2): a list of tags, W/ prefixes ignored, or "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
