package directory

import (
	"slices"
	"sync"
)

// keyLocks is a set of mutexes by name, created on demand and dropped when
// no caller holds or waits for them, so the map stays as small as the
// number of keys in use.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	refs int
}

// lock takes the named locks in sorted order (so that two callers taking
// overlapping sets cannot deadlock) and returns their release.
func (l *keyLocks) lock(names ...string) (unlock func()) {
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	held := make([]*keyLock, 0, len(names))
	for _, n := range names {
		l.mu.Lock()
		if l.m == nil {
			l.m = map[string]*keyLock{}
		}
		k := l.m[n]
		if k == nil {
			k = &keyLock{}
			l.m[n] = k
		}
		k.refs++
		l.mu.Unlock()
		k.Lock()
		held = append(held, k)
	}
	return func() {
		for i := len(held) - 1; i >= 0; i-- {
			k := held[i]
			k.Unlock()
			l.mu.Lock()
			if k.refs--; k.refs == 0 {
				delete(l.m, names[i])
			}
			l.mu.Unlock()
		}
	}
}
