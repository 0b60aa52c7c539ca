//go:build browser

package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The analytics.js the browser test runs: Segment's own package from npm,
// bundled for the page with esbuild, as a site would. Both are pinned.
const (
	analyticsNextVersion = "1.84.3"
	esbuildVersion       = "0.28.2"
)

// analyticsBundle returns @segment/analytics-next bundled into one script
// that sets window.AnalyticsBrowser. It is built once into a cache dir
// ($JUNCTION_NPM_CACHE, default <user cache dir>/junction-e2e), never in
// the repository, and reused by later runs.
func analyticsBundle(t *testing.T) []byte {
	t.Helper()
	dir := os.Getenv("JUNCTION_NPM_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = t.TempDir()
		}
		dir = filepath.Join(base, "junction-e2e")
	}
	dir = filepath.Join(dir, "analytics-next-"+analyticsNextVersion)
	out := filepath.Join(dir, "analytics.js")
	if b, err := os.ReadFile(out); err == nil {
		return b
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "package.json"), `{"private": true}`+"\n")
	writeFile(t, filepath.Join(dir, "entry.js"),
		"import { AnalyticsBrowser } from '@segment/analytics-next'\nwindow.AnalyticsBrowser = AnalyticsBrowser\n")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, b)
		}
	}
	// esbuild's native binary comes as an optional dependency; its install
	// script only optimises the shim, so scripts stay off.
	run("npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--save-exact",
		"@segment/analytics-next@"+analyticsNextVersion, "esbuild@"+esbuildVersion)
	tmp := out + ".tmp"
	run(filepath.Join(dir, "node_modules", ".bin", "esbuild"), "entry.js", "--bundle", "--format=iife",
		"--platform=browser", "--target=es2020", `--define:process.env.NODE_ENV="production"`,
		"--log-level=warning", "--outfile="+tmp)
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shopPage serves the site: a page that loads analytics.js, from its own
// loopback origin.
func shopPage(t *testing.T, bundle []byte) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><head><title>Shop</title><script src=\"/analytics.js\"></script></head><body><h1>Shop</h1></body></html>\n")
	})
	mux.HandleFunc("/analytics.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(bundle)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// flakyProxy stands between the page and Junction (a load balancer, say).
// The first POST of each path is forwarded, so Junction stores it, but the
// page is told 503, as if the answer had been lost: the library retries,
// and only messageId dedup keeps the events from landing twice.
type flakyProxy struct {
	URL string
	rp  *httputil.ReverseProxy

	mu     sync.Mutex
	posts  map[string][]postSeen
	gets   []string
	optReq []string // Access-Control-Request-Headers of each preflight
}

type postSeen struct {
	retryCount, authorization string
	status                    int // Junction's answer
}

func newFlakyProxy(t *testing.T, target string) *flakyProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &flakyProxy{posts: map[string][]postSeen{}}
	p.rp = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(u)
		// Junction names the host the page reached (the proxy) in the
		// settings it serves, so the events come back this way.
		pr.Out.Host = pr.In.Host
	}}
	s := httptest.NewServer(p)
	t.Cleanup(s.Close)
	p.URL = s.URL
	return p
}

func (p *flakyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodOptions:
		p.mu.Lock()
		p.optReq = append(p.optReq, r.Header.Get("Access-Control-Request-Headers"))
		p.mu.Unlock()
	case http.MethodGet:
		p.mu.Lock()
		p.gets = append(p.gets, r.URL.Path)
		p.mu.Unlock()
	case http.MethodPost:
		rec := httptest.NewRecorder()
		p.rp.ServeHTTP(rec, r)
		p.mu.Lock()
		first := len(p.posts[r.URL.Path]) == 0
		p.posts[r.URL.Path] = append(p.posts[r.URL.Path], postSeen{
			retryCount: r.Header.Get("X-Retry-Count"), authorization: r.Header.Get("Authorization"), status: rec.Code})
		p.mu.Unlock()
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "upstream answer lost\n")
			return
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	p.rp.ServeHTTP(w, r)
}

func (p *flakyProxy) seen(path string) []postSeen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]postSeen(nil), p.posts[path]...)
}

// duplicates reads how many events the hub dropped as repeated messageIds.
func duplicates(t *testing.T, h *hubProc) int {
	t.Helper()
	return metricValue(t, h, "junction_events_duplicate_total")
}

// TestBrowserSegmentAnalyticsJS runs Segment's analytics.js (from npm,
// unchanged) in headless Chromium on a page of one origin against Junction
// on another, through a proxy that loses the answer to the first POST of
// each path. identify and track land in the directory exactly once, in both
// setups a site may use: cdnURL alone (Junction serves the settings), and
// cdnSettings with apiKey.
func TestBrowserSegmentAnalyticsJS(t *testing.T) {
	bundle := analyticsBundle(t)
	page := shopPage(t, bundle)
	h := startSegmentHub(t, newSink(t), nil, nil, map[string]string{"SEGMENT_SITE_ORIGIN": page.URL})
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte(segWriteKey+":"))

	modes := []struct {
		name string
		// settings is the first argument of AnalyticsBrowser.load, given
		// the proxy's URL.
		settings func(proxy string) map[string]any
		// settingsGET: the library loads its settings from Junction.
		settingsGET bool
	}{
		{"cdnURL", func(proxy string) map[string]any {
			return map[string]any{"writeKey": segWriteKey, "cdnURL": proxy + "/hooks/segment-prod"}
		}, true},
		{"cdnSettings", func(proxy string) map[string]any {
			return map[string]any{"writeKey": segWriteKey, "cdnSettings": map[string]any{
				"integrations": map[string]any{"Segment.io": map[string]any{
					"apiKey": segWriteKey, "apiHost": strings.TrimPrefix(proxy, "http://") + "/hooks/segment-prod/v1", "protocol": "http"}},
				"metrics": map[string]any{"sampleRate": 0},
			}}
		}, false},
	}
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			proxy := newFlakyProxy(t, h.URL)
			email := fmt.Sprintf("ada.%s@example.com", strings.ToLower(m.name))
			user := "u-browser-" + m.name
			order := fmt.Sprintf("ORD-B%d", i+1)
			dupsBefore := duplicates(t, h)

			browser := newBrowser(t)
			ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
			defer cancel()
			settings, _ := json.Marshal(m.settings(proxy.URL))
			script := fmt.Sprintf(`(async () => {
  const [analytics] = await AnalyticsBrowser.load(%s)
  await analytics.identify(%q, {email: %q, firstName: 'Ada', lastName: 'Lovelace'})
  await analytics.track('Transaction Created', {orderId: %q, revenue: 42.5, currency: 'EUR'}, {context: {traits: {email: %q}}})
  return 'sent'
})()`, settings, user, email, order, email)
			if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
				t.Fatalf("open the shop page: %v", err)
			}
			if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](script, chromedp.EvalAwaitPromise)); err != nil || got != "sent" {
				t.Fatalf("analytics.js: %q, %v\nhub output:\n%s", got, err, lastLines(h.out.String(), 30))
			}

			// Each call is first lost (503), then retried with X-Retry-Count
			// and answered 200; both reached Junction.
			for _, path := range []string{"/hooks/segment-prod/v1/i", "/hooks/segment-prod/v1/t"} {
				waitFor(t, 90*time.Second, "a retried POST "+path+" answered 200", func() bool {
					s := proxy.seen(path)
					return len(s) >= 2 && s[len(s)-1].status == 200
				})
				s := proxy.seen(path)
				if s[0].status != 200 || s[0].retryCount != "" {
					t.Errorf("%s: first POST %+v; want it stored (200) and not marked a retry", path, s[0])
				}
				if n, err := strconv.Atoi(s[len(s)-1].retryCount); err != nil || n < 1 {
					t.Errorf("%s: the retry carried X-Retry-Count %q; want >= 1", path, s[len(s)-1].retryCount)
				}
				for _, p := range s {
					if p.authorization != auth {
						t.Errorf("%s: Authorization %q, want the write key as basic-auth user", path, p.authorization)
					}
				}
			}
			proxy.mu.Lock()
			gets, preflights := proxy.gets, len(proxy.optReq)
			proxy.mu.Unlock()
			wantGET := []string{"/hooks/segment-prod/v1/projects/" + segWriteKey + "/settings"}
			if m.settingsGET && (len(gets) != 1 || gets[0] != wantGET[0]) || !m.settingsGET && len(gets) != 0 {
				t.Errorf("GETs through the proxy: %q (settings from Junction: %v)", gets, m.settingsGET)
			}
			t.Logf("%s: POST /v1/i %+v, POST /v1/t %+v, GETs %q, preflights asking for %q",
				m.name, proxy.seen("/hooks/segment-prod/v1/i"), proxy.seen("/hooks/segment-prod/v1/t"), gets, proxy.optReq)
			if preflights == 0 {
				t.Errorf("no preflight: the Authorization header should need one")
			}

			// Exactly once in the directory: one contact, one transaction,
			// one run each; the retries were dropped as duplicates.
			waitFor(t, 60*time.Second, "the contact and its transaction", func() bool {
				cs := contactsByEmail(t, h, email)
				return len(cs) == 1 && len(cs[0].Transactions) == 1
			})
			for _, wf := range []string{"segment-contacts", "segment-transactions"} {
				n := 0
				for _, r := range runsOf(h, wf, "") {
					if strings.Contains(string(r.Input), email) {
						n++
						if r.Status != "completed" {
							t.Errorf("%s run %s is %s: %s", wf, r.ID, r.Status, r.Error)
						}
					}
				}
				if n != 1 {
					t.Errorf("%d %s runs for %s, want 1", n, wf, email)
				}
			}
			cs := contactsByEmail(t, h, email)
			if len(cs) != 1 || cs[0].FirstName != "Ada" || len(cs[0].Transactions) != 1 || cs[0].Transactions[0].Data["orderId"] != order {
				t.Errorf("contacts %+v; want one Ada with transaction %s", cs, order)
			}
			if got := duplicates(t, h) - dupsBefore; got < 2 {
				t.Errorf("%d duplicates dropped; want the two retried messages", got)
			}
		})
	}
}

// TestBrowserSegmentOrigins: what a page can read of Junction's answers.
// The listed site reads an error (401) with its reason; a page of another
// origin cannot read anything, even with the write key, and nothing it
// sends is stored.
func TestBrowserSegmentOrigins(t *testing.T) {
	bundle := analyticsBundle(t)
	shop, other := shopPage(t, bundle), shopPage(t, bundle)
	h := startSegmentHub(t, newSink(t), nil, nil, map[string]string{"SEGMENT_SITE_ORIGIN": shop.URL})
	hook := h.URL + "/hooks/segment-prod/v1/t"
	post := func(writeKey string) string {
		body, _ := json.Marshal(map[string]any{"type": "track", "event": "Checkout Started", "anonymousId": "anon-origins", "writeKey": writeKey,
			"messageId": "ajs-next-origins-" + writeKey})
		// text/plain and no custom header: a simple request, sent without
		// a preflight, as analytics.js sends when it has no apiKey.
		return fmt.Sprintf(`fetch(%q, {method: 'POST', headers: {'Content-Type': 'text/plain'}, body: %q})
  .then(r => r.json().then(b => r.status + ' ' + (b.error ? b.error.code : 'stored')), e => 'unreadable: ' + e.message)`, hook, body)
	}
	tests := []struct {
		name, page, script, want string
	}{
		{"the site reads an error", shop.URL, post("WRONG_KEY"), "401 unauthorized"},
		{"another site cannot read", other.URL, post(segWriteKey), "unreadable: Failed to fetch"},
		{"another site cannot load the settings", other.URL, fmt.Sprintf(`AnalyticsBrowser.load({writeKey: %q, cdnURL: %q}).then(() => 'loaded', e => 'unreadable: ' + e.message)`,
			segWriteKey, h.URL+"/hooks/segment-prod"), "unreadable: Failed to fetch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			browser := newBrowser(t)
			ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
			defer cancel()
			if err := chromedp.Do(ctx, chromedp.Navigate(tc.page+"/"), chromedp.WaitVisible(chromedp.CSS(`h1`))); err != nil {
				t.Fatalf("open %s: %v", tc.page, err)
			}
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](tc.script, chromedp.EvalAwaitPromise))
			if err != nil || got != tc.want {
				t.Fatalf("got %q (%v), want %q", got, err, tc.want)
			}
		})
	}
	// The other site's post, with the right write key, reached the hub and
	// was refused there: nothing is stored.
	if n := metricValue(t, h, "junction_events_accepted_total"); n != 0 {
		t.Errorf("%d events stored; want none", n)
	}
	resp, err := http.Get(h.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), `junction_events_rejected_total{connection="segment-prod",reason="origin_not_allowed"} 2`) {
		t.Errorf("metrics lack the two origin_not_allowed refusals:\n%s", grepLines(string(b), "rejected_total"))
	}
}
