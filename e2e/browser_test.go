//go:build browser

package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserArtifacts is where screenshots go: $JUNCTION_ARTIFACTS, or
// e2e/artifacts (gitignored).
func browserArtifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("JUNCTION_ARTIFACTS")
	if dir == "" {
		dir = "artifacts"
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts headless Chromium ($JUNCTION_CHROMIUM, default
// /usr/bin/chromium, as Debian's chromium package installs it) with a fresh
// profile and no background traffic.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	exe := os.Getenv("JUNCTION_CHROMIUM")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if _, err := os.Stat(exe); err != nil {
		t.Fatalf("chromium not found at %s (apt-get install -y chromium, or set JUNCTION_CHROMIUM): %v", exe, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Start the browser with a context that has no deadline (the first call
	// owns the browser's lifetime), so a launch failure is reported as such.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shot saves a full-page PNG screenshot (quality 100 means PNG).
func shot(dir, name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		// Right after a navigation Chromium may not have laid the page out
		// yet and refuses ("Cannot take screenshot with 0 width"): wait for
		// the layout rather than fail the test over its artifact.
		var buf []byte
		var err error
		for range 10 {
			if buf, err = chromedp.FullScreenshot(100)(ctx, tg); err == nil || !strings.Contains(err.Error(), "0 width") {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
		}
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
	})
}

// TestBrowserConsole drives the console in headless Chromium against the
// built binary: log in, filter runs by status, open the failed run and read
// its task error, replay it, and open a connection's overview.
func TestBrowserConsole(t *testing.T) {
	h, failed, completed := consoleHub(t)
	browser := newBrowser(t)
	ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	art := browserArtifacts(t)
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
	read := func(what string, a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			fail(what, err)
		}
		return v
	}

	// 1. Any page sends a browser without a session to the login form.
	do("open the console",
		chromedp.Navigate(h.URL+"/runs?status=completed"),
		chromedp.WaitVisible(chromedp.CSS(`#token`)),
		shot(art, "01-login"),
	)
	if loc := read("location", chromedp.Location()); !strings.Contains(loc, "/login?next=") {
		t.Fatalf("without a session the console is at %s, want the login page", loc)
	}

	// 2. Log in; the console returns to the page asked for.
	do("log in",
		chromedp.SendKeys(chromedp.CSS(`#token`), h.Token),
		chromedp.Submit(chromedp.CSS(`#token`)),
		chromedp.WaitVisible(chromedp.CSS(`#runs-list`)),
	)
	if loc := read("location", chromedp.Location()); !strings.HasSuffix(loc, "/runs?status=completed") {
		t.Fatalf("after login the console is at %s, want the page asked for", loc)
	}

	// 3. Filter the runs by status with the form.
	do("open all runs", chromedp.Navigate(h.URL+"/runs"), chromedp.WaitVisible(chromedp.CSS(`#runs-list`)))
	list := read("read the runs", chromedp.Text(chromedp.CSS(`#runs-list tbody`)))
	if !strings.Contains(list, failed.ID) || !strings.Contains(list, completed.ID) {
		t.Fatalf("all runs should list %s and %s:\n%s", failed.ID, completed.ID, list)
	}
	do("filter runs by status",
		chromedp.SetValue(chromedp.CSS(`#f-status`), "failed"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		// An option has no box, so wait for it to exist, not to show.
		chromedp.WaitReady(chromedp.CSS(`#f-status option[value=failed][selected]`)),
		shot(art, "02-runs-failed"),
	)
	list = read("read the filtered runs", chromedp.Text(chromedp.CSS(`#runs-list tbody`)))
	loc := read("location", chromedp.Location())
	if !strings.Contains(loc, "status=failed") || !strings.Contains(list, failed.ID) || strings.Contains(list, completed.ID) {
		t.Fatalf("filtered by failed (%s), the list should hold %s only:\n%s", loc, failed.ID, list)
	}

	// 4. Open the failed run and read the task's error.
	errSel := chromedp.CSS(`#task-deliver .task-error .error-message`)
	do("open the failed run",
		chromedp.Click(chromedp.CSS(`a[href="/runs/`+failed.ID+`"]`)),
		chromedp.WaitVisible(errSel),
		shot(art, "03-failed-run"),
	)
	taskErr := read("read the task error", chromedp.Text(errSel))
	for _, want := range []string{"HTTP 400 Bad Request", "order BAD-1 is not valid"} {
		if !strings.Contains(taskErr, want) {
			t.Errorf("task error %q lacks %q", taskErr, want)
		}
	}

	// 5. Replay it; the new run says what it replays and, the sink now
	// accepting the order, completes.
	replayLink := chromedp.CSS(`dl.meta a[href="/runs/` + failed.ID + `"]`)
	do("replay the run", chromedp.Click(chromedp.CSS(`#replay`)), chromedp.WaitVisible(replayLink))
	replayOf := read("read replay of", chromedp.Text(replayLink))
	loc = read("location", chromedp.Location())
	if strings.TrimSpace(replayOf) != failed.ID || strings.HasSuffix(loc, failed.ID) {
		t.Fatalf("after replay the browser is at %s (replay of %q)", loc, replayOf)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		do("reload the replay", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`h1 .badge`)))
		status := read("read the replay's status", chromedp.Text(chromedp.CSS(`h1 .badge`)))
		if status == "completed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replay is still %s after 30s", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	do("screenshot the replay", shot(art, "04-replayed-run"))

	// 6. The data overview, then one connection's page.
	do("open a connection's overview",
		chromedp.Navigate(h.URL+"/connections"),
		chromedp.WaitVisible(chromedp.CSS(`.cards`)),
		shot(art, "05-data-overview"),
		chromedp.Click(chromedp.CSS(`a[href="/connections/orders-in"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#entities-h`)),
		shot(art, "06-connection"),
	)
	if heading := read("read the heading", chromedp.Text(chromedp.CSS(`h1`))); heading != "Connection orders-in" {
		t.Errorf("connection page heading %q", heading)
	}

	// 7. The workflow page, where test data and captures start.
	do("open the workflow",
		chromedp.Navigate(h.URL+"/workflows"),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/workflows/orders-to-sink"]`)),
		shot(art, "07-workflows"),
		chromedp.Click(chromedp.CSS(`a[href="/workflows/orders-to-sink"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#payload`)),
		shot(art, "08-workflow"),
	)
	t.Logf("screenshots in %s", art)
}
