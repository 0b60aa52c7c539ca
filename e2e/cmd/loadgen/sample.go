package main

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssSampler reads a process's resident set size from /proc at an interval.
type rssSampler struct {
	pid int

	mu      sync.Mutex
	firstKB int64
	peakKB  int64
	sampled bool
}

func newRSSSampler(pid int) *rssSampler {
	s := &rssSampler{pid: pid}
	s.sample()
	return s
}

func (s *rssSampler) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sample()
		}
	}
}

// sample reads VmRSS now (KiB; 0 when /proc cannot be read) and records it.
func (s *rssSampler) sample() int64 {
	kb := procStatusKB(s.pid, "VmRSS:")
	// VmHWM is the kernel's own peak, which also catches spikes between
	// samples.
	hwm := procStatusKB(s.pid, "VmHWM:")
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sampled {
		s.firstKB, s.sampled = kb, true
	}
	s.peakKB = max(s.peakKB, kb, hwm)
	return kb
}

// split reads the anonymous (heap, stacks, Go-allocated arenas) and
// file-backed (mmapped store files) parts of RSS now, in KiB.
func (s *rssSampler) split() (anon, file int64) {
	return procStatusKB(s.pid, "RssAnon:"), procStatusKB(s.pid, "RssFile:")
}

func (s *rssSampler) first() int64 { s.mu.Lock(); defer s.mu.Unlock(); return s.firstKB }
func (s *rssSampler) peak() int64  { s.mu.Lock(); defer s.mu.Unlock(); return s.peakKB }

// procStatusKB returns a "kB" line of /proc/<pid>/status.
func procStatusKB(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// lagSampler polls the hub's log lag and keeps the largest value seen.
type lagSampler struct {
	url string

	mu   sync.Mutex
	maxN int64
}

func newLagSampler(url string) *lagSampler { return &lagSampler{url: url} }

func (l *lagSampler) run(ctx context.Context, every time.Duration) {
	h := &hub{url: l.url}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := h.lag(); err == nil {
				l.mu.Lock()
				l.maxN = max(l.maxN, n)
				l.mu.Unlock()
			}
		}
	}
}

func (l *lagSampler) max() int64 { l.mu.Lock(); defer l.mu.Unlock(); return l.maxN }

// procCPU returns the CPU time a process has used so far, user and system
// (from /proc/<pid>/stat; zero when it cannot be read). Unlike req/s on a
// shared machine, CPU per request barely depends on what else runs.
func procCPU(pid int) (user, sys time.Duration) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0
	}
	// The command name (field 2) may hold spaces; the fields after it
	// start past its closing parenthesis.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0
	}
	// f[0] is field 3 (state): utime is field 14, stime 15, in clock
	// ticks, which Linux reports at 100 per second (USER_HZ).
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut) * 10 * time.Millisecond, time.Duration(st) * 10 * time.Millisecond
}
