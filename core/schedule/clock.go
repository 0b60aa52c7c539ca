package schedule

import "time"

// Clock is the scheduler's source of time, injected so tests can drive the
// scheduler across days and DST changes without waiting.
type Clock interface {
	Now() time.Time
	// TimerAt returns a timer that fires once, when the clock reaches
	// deadline (at once if it has). A deadline rather than a duration keeps
	// a caller that read Now a moment ago from sleeping past its target.
	TimerAt(deadline time.Time) Timer
}

// Timer is a stoppable one-shot timer.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// TimerAt wraps time.NewTimer.
func (SystemClock) TimerAt(deadline time.Time) Timer {
	return sysTimer{time.NewTimer(time.Until(deadline))}
}

type sysTimer struct{ t *time.Timer }

func (s sysTimer) C() <-chan time.Time { return s.t.C }
func (s sysTimer) Stop() bool          { return s.t.Stop() }
