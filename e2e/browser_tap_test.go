//go:build browser

package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserLiveView opens a connection's page in headless Chromium,
// starts its live view, pushes an event, and sees it appear: the script,
// the CSP and the session cookie together let the page read its stream.
func TestBrowserLiveView(t *testing.T) {
	s := newSink(t)
	h := startHub(t, copyConfigs(t, "testdata/spine"), t.TempDir(), spineEnv(s), "")
	browser := newBrowser(t)
	ctx, cancel := context.WithTimeout(browser, 2*time.Minute)
	defer cancel()
	art := browserArtifacts(t)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\nhub output:\n%s", what, err, lastLines(h.out.String(), 30))
		}
	}
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}
	do("log in on the connection's page",
		chromedp.Navigate(h.URL+"/connections/orders-in"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		chromedp.SendKeys(chromedp.CSS(`#token`), h.Token),
		chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`#live-h`)),
	)
	do("start the live view", chromedp.Click(chromedp.CSS(`section[data-tap] .live-toggle`)))
	deadline := time.Now().Add(30 * time.Second)
	for text(`section[data-tap] .live-status`) != "Watching." {
		if time.Now().After(deadline) {
			t.Fatalf("live view status %q after 30s, want Watching.", text(`section[data-tap] .live-status`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := postEvent(t, h.URL, "k-orders", []byte(`{"kind":"order","id":"LIVE-7","total":"7.5"}`)); code != http.StatusAccepted {
		t.Fatalf("post: %d %s", code, body)
	}
	do("see the event and its run",
		chromedp.WaitVisible(chromedp.CSS(`.live-log li.live-event`)),
		chromedp.WaitVisible(chromedp.CSS(`.live-log li.live-run`)),
		shot(art, "09-live-view"),
	)
	if ev := text(`.live-log li.live-event`); !strings.Contains(ev, `"id":"LIVE-7"`) {
		t.Errorf("live event line %q lacks the payload", ev)
	}
	if run := text(`.live-log li.live-run`); !strings.Contains(run, "orders-to-sink completed") {
		t.Errorf("live run line %q, want the completed run", run)
	}
}
