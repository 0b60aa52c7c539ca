package faillimit

import (
	"fmt"
	"testing"
	"time"
)

func TestBlocksAfterMaxUntilWindowEnds(t *testing.T) {
	now := time.Now()
	l := New(3, time.Minute, func() time.Time { return now })
	steps := []struct {
		do          func()
		wantBlocked bool
	}{
		{func() {}, false},
		{func() { l.Fail("a"); l.Fail("a") }, false},
		{func() { l.Fail("a") }, true},
		{func() { now = now.Add(59 * time.Second) }, true},
		{func() { now = now.Add(time.Second) }, false},
		{func() { l.Fail("a"); l.Fail("a"); l.Fail("a"); l.Succeed("a") }, false},
	}
	for i, s := range steps {
		s.do()
		if got, _ := l.Blocked("a"); got != s.wantBlocked {
			t.Fatalf("step %d: blocked %v, want %v", i, got, s.wantBlocked)
		}
	}
	if blocked, _ := l.Blocked("b"); blocked {
		t.Error("another address is blocked")
	}
}

func TestBoundsMemory(t *testing.T) {
	now := time.Now()
	l := New(10, 10*time.Minute, func() time.Time { return now })
	for i := range MaxTracked + 50 {
		l.Fail(fmt.Sprintf("10.0.%d.%d", i/256, i%256))
		now = now.Add(time.Millisecond)
	}
	if n := len(l.windows); n > MaxTracked {
		t.Errorf("tracking %d addresses, want at most %d", n, MaxTracked)
	}
	// The newest address is still counted.
	last := fmt.Sprintf("10.0.%d.%d", (MaxTracked+49)/256, (MaxTracked+49)%256)
	if w := l.windows[last]; w == nil || w.failures != 1 {
		t.Errorf("newest address window = %+v", w)
	}
}
