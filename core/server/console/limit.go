package console

import (
	"sync"
	"time"
)

// Failed logins allowed from one address within loginWindow before the
// console refuses further attempts from it until the window ends. The admin
// token is long and random, so this is not what keeps it safe; it keeps a
// script from hammering the form and the log.
const (
	loginFailures = 10
	loginWindow   = 10 * time.Minute
	// maxTracked bounds memory when many addresses fail: past it, expired
	// entries are swept, and if none are, the oldest window is dropped.
	maxTracked = 10_000
)

// loginLimiter counts failed logins per client address in fixed windows.
type loginLimiter struct {
	now func() time.Time

	mu      sync.Mutex
	windows map[string]*failWindow
}

type failWindow struct {
	start    time.Time
	failures int
}

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{now: now, windows: map[string]*failWindow{}}
}

// blocked reports whether addr has used up its failures, and for how long
// it stays blocked.
func (l *loginLimiter) blocked(addr string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.windows[addr]
	if w == nil {
		return false, 0
	}
	left := w.start.Add(loginWindow).Sub(l.now())
	if left <= 0 {
		delete(l.windows, addr)
		return false, 0
	}
	return w.failures >= loginFailures, left
}

// fail records a failed login from addr.
func (l *loginLimiter) fail(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.windows[addr]
	if w == nil || now.Sub(w.start) >= loginWindow {
		if len(l.windows) >= maxTracked {
			l.sweep(now)
		}
		w = &failWindow{start: now}
		l.windows[addr] = w
	}
	w.failures++
}

// succeed forgets addr's failures: the operator got in.
func (l *loginLimiter) succeed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, addr)
}

func (l *loginLimiter) sweep(now time.Time) {
	var oldest string
	var oldestStart time.Time
	for addr, w := range l.windows {
		if now.Sub(w.start) >= loginWindow {
			delete(l.windows, addr)
			continue
		}
		if oldest == "" || w.start.Before(oldestStart) {
			oldest, oldestStart = addr, w.start
		}
	}
	if len(l.windows) >= maxTracked {
		delete(l.windows, oldest)
	}
}
