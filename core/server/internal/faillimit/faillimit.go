// Package faillimit counts failed authentication attempts per client
// address in fixed windows, so that the console's login form and the API's
// bearer token stop answering a guesser: after Max failures within Window,
// an address is refused until its window ends. The secrets it protects are
// long and random, so this is not what keeps them safe; it keeps a script
// from hammering the hub and its log.
package faillimit

import (
	"sync"
	"time"
)

// MaxTracked bounds memory when many addresses fail: past it, expired
// windows are swept, and if none are, the oldest window is dropped.
const MaxTracked = 10_000

// Limiter counts failures per address. Safe for concurrent use.
type Limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	windows map[string]*failWindow
}

type failWindow struct {
	start    time.Time
	failures int
}

// New returns a Limiter allowing max failures per address within window;
// now is the clock (time.Now when nil).
func New(max int, window time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, now: now, windows: map[string]*failWindow{}}
}

// Blocked reports whether addr has used up its failures, and for how long
// it stays blocked.
func (l *Limiter) Blocked(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[addr]
	if w == nil {
		return false, 0
	}
	left := w.start.Add(l.window).Sub(l.now())
	if left <= 0 {
		delete(l.windows, addr)
		return false, 0
	}
	return w.failures >= l.max, left
}

// Fail records a failure from addr.
func (l *Limiter) Fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.windows[addr]
	if w == nil || now.Sub(w.start) >= l.window {
		if len(l.windows) >= MaxTracked {
			l.sweep(now)
		}
		w = &failWindow{start: now}
		l.windows[addr] = w
	}
	w.failures++
}

// Succeed forgets addr's failures: it proved it holds the secret.
func (l *Limiter) Succeed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, addr)
}

func (l *Limiter) sweep(now time.Time) {
	var oldest string
	var oldestStart time.Time
	for addr, w := range l.windows {
		if now.Sub(w.start) >= l.window {
			delete(l.windows, addr)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = addr, w.start
		}
	}
	if len(l.windows) >= MaxTracked {
		delete(l.windows, oldest)
	}
}
