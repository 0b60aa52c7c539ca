//go:build browser

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const tagWriteKey = "web-tag-write-key"

// tagHubConfig is a hub with a Segment connection for the web tag (its
// page's origin allowed by cors), one that requires consent, each sending
// what it receives to a sink, and one connection of every other inbound
// kind for the setup screenshots.
func tagHubConfig(pageOrigin, sinkURL string) string {
	forward := func(name, conn string) string {
		return fmt.Sprintf(`apiVersion: junction/v1
kind: Workflow
metadata: {name: %s}
spec:
  trigger: {connection: %s}
  filter: [{path: $.messageId, op: exists}]
  fields:
    type: {path: $.type, type: string}
    event: {path: $.event, type: string}
    messageId: {path: $.messageId, type: string}
    anonymousId: {path: $.anonymousId, type: string}
    userId: {path: $.userId, type: string}
    library: {path: $.context.library.name, type: string}
    url: {path: $.context.page.url, type: string}
  tasks:
    - name: forward
      uses: sink-out.post
      with:
        body: {connection: %s, type: "{{ .fields.type }}", event: "{{ .fields.event }}", messageId: "{{ .fields.messageId }}", anonymousId: "{{ .fields.anonymousId }}", userId: "{{ .fields.userId }}", library: "{{ .fields.library }}", url: "{{ .fields.url }}"}
---
`, name, conn, conn)
	}
	return forward("web-forward", "web") + forward("web-consent-forward", "web-consent") + fmt.Sprintf(`apiVersion: junction/v1
kind: Connection
metadata: {name: web}
spec:
  connector: segment
  auth: {type: api_key, secret: %[3]s}
  cors: {origins: [%[1]s]}
  config: {shared_secret: web-shared-secret}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: web-consent}
spec:
  connector: segment
  auth: {type: api_key, secret: %[3]s}
  cors: {origins: [%[1]s]}
  config: {tag: {require_consent: true, respect_dnt: false}}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sink-out}
spec:
  connector: webhook
  network: {allow_private: true}
  config: {url: "%[2]s"}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: sf-cases}
spec:
  connector: salesforce
  auth: {type: api_key, secret: sf-path-token-0123456789}
  config: {organization_ids: ["00D000000000062EAA"]}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: aep-audiences}
spec:
  connector: aep
  auth: {type: basic, username: aep-user, password: aep-api-token}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: orders-api-key}
`, pageOrigin, sinkURL, tagWriteKey)
}

// tagPage serves the pages that embed the tag, on their own origin: / with
// the snippet, /dnt with Do Not Track on, /consent from the consent
// connection.
func tagPage(t *testing.T, hubURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	page := func(conn, before string) string {
		return `<!doctype html><html><head><title>Shop</title>` + before +
			`<script>window.junction = window.junction || [];</script>
<script async src="` + hubURL + `/hooks/` + conn + `/tag.js" data-write-key="` + tagWriteKey + `"></script>
</head><body><h1>Shop</h1></body></html>`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/dnt":
			fmt.Fprint(w, page("web", `<script>Object.defineProperty(Navigator.prototype, 'doNotTrack', {get: () => '1'});</script>`))
		case "/consent":
			fmt.Fprint(w, page("web-consent", ""))
		default:
			fmt.Fprint(w, page("web", ""))
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

type forwarded struct {
	Connection, Type, Event, MessageID, AnonymousID, UserID, Library, URL string
}

// received lists what the sink got, by "connection type event".
func received(t *testing.T, s *sink) map[string][]forwarded {
	t.Helper()
	out := map[string][]forwarded{}
	for _, body := range s.delivered() {
		var f forwarded
		if err := json.Unmarshal(body, &f); err != nil {
			t.Fatalf("sink body %s: %v", body, err)
		}
		k := strings.TrimSpace(f.Connection + " " + f.Type + " " + f.Event)
		out[k] = append(out[k], f)
	}
	return out
}

// TestBrowserWebTag loads the web tag from the hub into a page on another
// origin: its page view and a track call land; with the hub stopped, calls
// wait in localStorage across a reload and arrive once it is back (same
// data dir, same address); Do Not Track and consent are honoured. Then it
// screenshots each inbound kind's Setup section.
func TestBrowserWebTag(t *testing.T) {
	s := newSink(t)
	addr := freeAddr(t)
	hubURL := "http://" + addr
	origin := tagPage(t, hubURL)
	cfg, data := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(cfg, "web.yaml"), tagHubConfig(origin, s.URL))
	for _, p := range []string{"segment", "salesforce", "aep"} {
		installPlugin(t, data, p)
	}
	h := startHub(t, cfg, data, nil, addr)

	browser := newBrowser(t)
	ctx, cancel := context.WithTimeout(browser, 4*time.Minute)
	defer cancel()
	fail := func(what string, err error) {
		t.Helper()
		t.Fatalf("%s: %v\nhub output:\n%s", what, err, lastLines(h.out.String(), 30))
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			fail(what, err)
		}
	}
	eval := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](js)); err != nil && err != chromedp.ErrJSUndefined {
			fail(what, err)
		}
	}
	queued := func() int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`JSON.parse(localStorage.getItem('junction:queue:`+hubURL+`/hooks/web') || '[]').length`))
		if err != nil {
			fail("read the queue", err)
		}
		return n
	}
	loaded := chromedp.Poll[bool](`!!(window.junction && window.junction.loaded)`, chromedp.WithPollingTimeout(30*time.Second))
	arrive := func(what string, keys ...string) map[string][]forwarded {
		t.Helper()
		var got map[string][]forwarded
		waitFor(t, 60*time.Second, what, func() bool {
			got = received(t, s)
			for _, k := range keys {
				if len(got[k]) == 0 {
					return false
				}
			}
			return true
		})
		return got
	}

	// 1. The page view is sent on load, a track call when made.
	do("open the page", chromedp.Navigate(origin+"/"))
	if _, err := chromedp.Run(ctx, loaded); err != nil {
		fail("the tag did not load", err)
	}
	eval("track", `junction.track('Product Viewed', {sku: 'A-1'})`)
	got := arrive("the page view and the track call", "web page", "web track Product Viewed")
	pv := got["web page"][0]
	if pv.Library != "junction-tag" || pv.URL != origin+"/" || !strings.HasPrefix(pv.MessageID, "jct-") || pv.AnonymousID == "" {
		t.Errorf("page view %+v", pv)
	}
	if tr := got["web track Product Viewed"][0]; tr.AnonymousID != pv.AnonymousID {
		t.Errorf("track's anonymousId %q, the page view's %q: it must persist", tr.AnonymousID, pv.AnonymousID)
	}

	// 2. Hub down: calls wait in localStorage, also across a reload.
	h.Stop()
	eval("track while down", `junction.track('Checkout Started', {value: 12})`)
	eval("identify while down", `junction.identify('user-7', {email: 'ada@example.com'})`)
	waitFor(t, 30*time.Second, "two calls queued", func() bool { return queued() >= 2 })
	do("reload the page", chromedp.Reload())
	if _, err := chromedp.Run(ctx, loaded); err != nil {
		fail("the tag did not load after the reload", err)
	}
	if n := queued(); n < 3 {
		t.Fatalf("after a reload with the hub down %d calls are queued, want the 2 and the new page view", n)
	}

	// 3. Hub back (same data dir, same address): the queue drains by
	// itself, each call once.
	h = startHub(t, cfg, data, nil, addr)
	got = arrive("the queued calls after the restart", "web track Checkout Started", "web identify")
	waitFor(t, 60*time.Second, "the queue to drain", func() bool { return queued() == 0 })
	if id := got["web identify"][0]; id.UserID != "user-7" || id.AnonymousID != pv.AnonymousID {
		t.Errorf("identify %+v", id)
	}
	waitFor(t, 30*time.Second, "the second page view", func() bool { return len(received(t, s)["web page"]) == 2 })

	// 4. Do Not Track: nothing is queued or stored.
	do("open the DNT page", chromedp.Navigate(origin+"/dnt"))
	if _, err := chromedp.Run(ctx, loaded); err != nil {
		fail("the tag did not load on /dnt", err)
	}
	eval("clear", `localStorage.clear()`)
	eval("track under DNT", `junction.track('DNT Click')`)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`localStorage.length`)); n != 0 || queued() != 0 {
		t.Errorf("under Do Not Track the tag stored %d keys", n)
	}

	// 5. Consent: held until junction.consent(true), stored nothing before.
	eval("clear", `localStorage.clear()`)
	do("open the consent page", chromedp.Navigate(origin+"/consent"))
	if _, err := chromedp.Run(ctx, loaded); err != nil {
		fail("the tag did not load on /consent", err)
	}
	eval("track before consent", `junction.track('Before Consent')`)
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`localStorage.length`)); n != 0 {
		t.Errorf("before consent the tag stored %d keys", n)
	}
	if k := received(t, s); len(k["web-consent page"]) != 0 || len(k["web-consent track Before Consent"]) != 0 {
		t.Fatalf("sent before consent: %v", k)
	}
	eval("consent", `junction.consent(true)`)
	arrive("the held calls after consent", "web-consent page", "web-consent track Before Consent")

	got = received(t, s)
	if len(got["web track DNT Click"]) != 0 {
		t.Error("a call made under Do Not Track arrived")
	}
	seen := map[string]bool{}
	for k, list := range got {
		for _, f := range list {
			if seen[f.MessageID] {
				t.Errorf("%s: messageId %s arrived twice", k, f.MessageID)
			}
			seen[f.MessageID] = true
		}
	}

	setupScreenshots(t, ctx, h, fail)
}

// setupScreenshots logs into the console and saves the Setup section of a
// connection of each inbound kind; on the Segment one it also shows the
// credentials with the form.
func setupScreenshots(t *testing.T, ctx context.Context, h *hubProc, fail func(string, error)) {
	t.Helper()
	art := browserArtifacts(t)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(h.URL+"/connections/web"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), h.Token),
		chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`#setup-h`)),
	); err != nil {
		fail("log in to the console", err)
	}
	kinds := []struct{ conn, file, want string }{
		{"web", "setup-segment", `/hooks/web/tag.js`},
		{"sf-cases", "setup-salesforce", `/hooks/sf-cases/<redacted>`},
		{"aep-audiences", "setup-aep", `Username: aep-user`},
		{"orders-in", "setup-webhook", `X-API-Key: <redacted>`},
	}
	for _, k := range kinds {
		var png []byte
		text, err := chromedp.Run(ctx, chromedp.Action[string](func(ctx context.Context, tg *chromedp.Target) (string, error) {
			if _, err := chromedp.Navigate(h.URL+"/connections/"+k.conn)(ctx, tg); err != nil {
				return "", err
			}
			if _, err := chromedp.WaitVisible(chromedp.CSS(`#setup`))(ctx, tg); err != nil {
				return "", err
			}
			b, err := chromedp.Screenshot(chromedp.CSS(`#setup`))(ctx, tg)
			if err != nil {
				return "", err
			}
			png = b
			return chromedp.Text(chromedp.CSS(`#setup`))(ctx, tg)
		}))
		if err != nil {
			fail("screenshot the setup of "+k.conn, err)
		}
		if err := os.WriteFile(filepath.Join(art, k.file+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, k.want) || strings.Contains(text, tagWriteKey) || strings.Contains(text, "sf-path-token-0123456789") || strings.Contains(text, "aep-api-token") {
			t.Errorf("setup of %s (credentials must be redacted, %q shown):\n%s", k.conn, k.want, text)
		}
	}
	revealed, err := chromedp.Run(ctx, chromedp.Action[string](func(ctx context.Context, tg *chromedp.Target) (string, error) {
		if _, err := chromedp.Navigate(h.URL+"/connections/web")(ctx, tg); err != nil {
			return "", err
		}
		if _, err := chromedp.Click(chromedp.CSS(`#setup button[type=submit]`))(ctx, tg); err != nil {
			return "", err
		}
		if _, err := chromedp.WaitVisible(chromedp.CSS(`#setup strong`))(ctx, tg); err != nil {
			return "", err
		}
		return chromedp.Text(chromedp.CSS(`#setup`))(ctx, tg)
	}))
	if err != nil {
		fail("reveal the Segment credentials", err)
	}
	for _, want := range []string{`data-write-key="` + tagWriteKey + `"`, "Shared Secret: web-shared-secret", "cdnURL: '" + h.URL + "/hooks/web'"} {
		if !strings.Contains(revealed, want) {
			t.Errorf("revealed setup lacks %q:\n%s", want, revealed)
		}
	}
}
