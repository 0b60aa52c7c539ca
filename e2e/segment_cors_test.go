package e2e

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// metricValue reads a counter of the segment-prod connection from /metrics
// (0 when it has not been counted yet).
func metricValue(t *testing.T, h *hubProc, name string) int {
	t.Helper()
	resp, err := http.Get(h.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\{connection="segment-prod"\} (\S+)$`)
	m := re.FindSubmatch(b)
	if m == nil {
		return 0
	}
	n, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// TestSegmentCORS: the browser edge of a Segment connection, against the
// built binary and the Wasm plugin. The site listed in spec.cors gets its
// preflight (X-Retry-Count allowed) and a readable answer even when it is
// an error; a page of any other origin gets no grant and stores nothing,
// even with the right write key; analytics.js's settings exist only for
// the connection's write key.
func TestSegmentCORS(t *testing.T) {
	const shop = "https://shop.example.com"
	h := startSegmentHub(t, newSink(t), nil, nil, map[string]string{"SEGMENT_SITE_ORIGIN": shop})
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(segWriteKey+":"))
	track := `{"type":"track","event":"Checkout Started","anonymousId":"anon-1","messageId":"ajs-next-cors-1","writeKey":"` + segWriteKey + `"}`
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		code                     int
		grant                    string
		check                    func(t *testing.T, h http.Header, body []byte)
	}{
		{"preflight of the listed site", "OPTIONS", "/v1/t", "", map[string]string{"Origin": shop,
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,x-retry-count"}, 204, shop,
			func(t *testing.T, h http.Header, _ []byte) {
				allowed := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
				for _, want := range []string{"authorization", "content-type", "x-retry-count"} {
					if !strings.Contains(allowed, want) {
						t.Errorf("Access-Control-Allow-Headers %q lacks %s", allowed, want)
					}
				}
				if h.Get("Access-Control-Max-Age") != "7200" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
					t.Errorf("preflight headers %v", h)
				}
			}},
		{"preflight of another site", "OPTIONS", "/v1/t", "", map[string]string{"Origin": "https://evil.example",
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}, 403, "", nil},
		{"another site with the right key", "POST", "/v1/t", track, map[string]string{"Origin": "https://evil.example",
			"Content-Type": "text/plain", "Authorization": auth}, 403, "", nil},
		{"401 is readable by the site", "POST", "/v1/t", strings.Replace(track, segWriteKey, "WRONG", 1),
			map[string]string{"Origin": shop, "Content-Type": "text/plain"}, 401, shop, nil},
		{"400 is readable by the site", "POST", "/v1/t", `{"type":`, map[string]string{"Origin": shop, "Content-Type": "text/plain", "Authorization": auth}, 400, shop, nil},
		{"settings of another write key", "GET", "/v1/projects/OTHER_KEY/settings", "", map[string]string{"Origin": shop}, 404, shop, nil},
		{"settings", "GET", "/v1/projects/" + segWriteKey + "/settings", "", map[string]string{"Origin": shop}, 200, shop,
			func(t *testing.T, _ http.Header, body []byte) {
				var s struct {
					Integrations map[string]map[string]any `json:"integrations"`
				}
				if err := json.Unmarshal(body, &s); err != nil {
					t.Fatalf("settings %s: %v", body, err)
				}
				seg := s.Integrations["Segment.io"]
				want := strings.TrimPrefix(h.URL, "http://") + "/hooks/segment-prod/v1"
				if seg["apiKey"] != segWriteKey || seg["apiHost"] != want || seg["protocol"] != "http" {
					t.Errorf("Segment.io settings %v; want apiHost %s, protocol http", seg, want)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.URL+"/hooks/segment-prod"+tc.path, strings.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, b, tc.code)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.grant {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.grant)
			}
			if !strings.Contains(resp.Header.Get("Vary"), "Origin") {
				t.Errorf("Vary %q, want Origin", resp.Header.Get("Vary"))
			}
			if tc.check != nil {
				tc.check(t, resp.Header, b)
			}
		})
	}
	if n := metricValue(t, h, "junction_events_accepted_total"); n != 0 {
		t.Errorf("%d events stored; none of these requests may store one", n)
	}
	// The same track from a server (no Origin) is stored: the grant is
	// about pages, not about the write key.
	if code, body := segmentPost(t, h, "/v1/t", []byte(track), http.Header{"Content-Type": {"text/plain"}, "Authorization": {auth}}); code != 200 {
		t.Fatalf("server-side track: %d %s", code, body)
	}
	if n := metricValue(t, h, "junction_events_accepted_total"); n != 1 {
		t.Errorf("%d events stored after the server-side track, want 1", n)
	}
}
