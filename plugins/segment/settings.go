package main

import (
	"net/url"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// analytics.js (analytics-next) starts by loading its source's settings
// from <cdnURL>/v1/projects/<writeKey>/settings (browser/index.ts
// loadCDNSettings), and sends wherever integrations["Segment.io"] says.
// Serving that route here makes Junction a drop-in: a site sets one
// option, AnalyticsBrowser.load({writeKey, cdnURL: '<hub>/hooks/<conn>'}).
//
// It lives in the connector, not in the host: it is Segment's protocol,
// the write key it checks is the connector's (auth api_key), and the host
// already hands every /hooks/{conn}/... request, with its public URL, to
// Receive. A GET stores nothing; CORS is the host's, as for every call.

const settingsPrefix, settingsSuffix = "/v1/projects/", "/settings"

// settingsKey returns the write key of a settings path, or false.
func settingsKey(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, settingsPrefix)
	if !ok {
		return "", false
	}
	key, ok := strings.CutSuffix(rest, settingsSuffix)
	if !ok || key == "" || strings.Contains(key, "/") {
		return "", false
	}
	return key, true
}

// settings answers the settings of writeKey: only this connection's write
// key has any (404 otherwise, with nothing stored and nothing to learn),
// and with no write key configured only a connection that checks no
// credentials at all serves them, since a browser cannot sign.
func (s *Segment) settings(req *pluginsdk.HTTPRequest, writeKey string) (*pluginsdk.ReceiveResult, error) {
	switch {
	case s.hasKey && !s.keyMatches(writeKey), !s.hasKey && s.secret != nil:
		return nil, &pluginsdk.Error{Status: 404, Code: "unknown_write_key", Message: "no source with this write key: set writeKey to the write key of this connection (its auth secret)"}
	}
	u, err := url.Parse(req.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, pluginsdk.Errorf("segment: settings: the request URL %q has no http(s) host", req.URL)
	}
	// The Tracking API is the same hook, one /v1 below: apiHost is
	// host[/prefix]/hooks/<conn>/v1, without the scheme, as analytics.js
	// wants it.
	base, _, ok := strings.Cut(u.Host+u.EscapedPath(), settingsPrefix)
	if !ok {
		return nil, pluginsdk.Errorf("segment: settings: unexpected request path %q", u.Path)
	}
	b := make([]byte, 0, 768)
	b = append(b, `{"integrations":{"Segment.io":`...)
	seg := fields.NewObject(b)
	seg.String("apiKey", writeKey)
	seg.String("apiHost", base+"/v1")
	seg.String("protocol", u.Scheme)
	b = append(seg.Bytes(), `}`...)
	// The rest is what analytics-next reads besides integrations, empty:
	// no device-mode destinations, middleware, edge function or remote
	// plugins to load from anywhere, and metrics off (sampleRate 0), which
	// would otherwise be posted to Segment's own API.
	b = append(b, `,"plan":{"track":{"__default":{"enabled":true,"integrations":{}}},"identify":{"__default":{"enabled":true}},"group":{"__default":{"enabled":true}}}`+
		`,"edgeFunction":{},"analyticsNextEnabled":true,"middlewareSettings":{},"enabledMiddleware":{},"metrics":{"sampleRate":0},"legacyVideoPluginsEnabled":false,"remotePlugins":[]}`...)
	return &pluginsdk.ReceiveResult{Response: pluginsdk.HTTPResponse{Status: 200, Header: settingsHeader, Body: b}}, nil
}

// settingsHeader lets a browser keep the settings for five minutes, as
// Segment's CDN does; private, since they name the host the request came
// through.
var settingsHeader = map[string][]string{"Content-Type": {"application/json"}, "Cache-Control": {"private, max-age=300"}}
