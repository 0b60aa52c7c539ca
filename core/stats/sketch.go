package stats

import (
	"sort"
	"unicode/utf8"
)

// maxValueBytes caps a tracked top value, so a field of long texts costs at
// most k * maxValueBytes.
const maxValueBytes = 128

// topK is the Space-Saving heavy-hitters sketch (Metwally, Agrawal, El
// Abbadi 2005) with k counters: memory is fixed at k values whatever the
// number of distinct values. While a field has at most k distinct values the
// counts are exact; after that every value with frequency above n/k is kept,
// and each count overestimates by at most its Error.
type topK struct {
	k   int
	idx map[string]int
	c   []counter
	// evictions counts replaced counters; zero means the counts are exact.
	evictions int64
}

type counter struct {
	Value string `json:"v"`
	Count int64  `json:"c"`
	Error int64  `json:"e,omitempty"`
}

func newTopK(k int) *topK { return &topK{k: k, idx: make(map[string]int, k)} }

// add counts one occurrence of v.
func (s *topK) add(v []byte) {
	if len(v) > maxValueBytes {
		v = truncate(v)
	}
	// string(v) in a map index does not allocate.
	if i, ok := s.idx[string(v)]; ok {
		s.c[i].Count++
		return
	}
	str := string(v)
	if len(s.c) < s.k {
		s.idx[str] = len(s.c)
		s.c = append(s.c, counter{Value: str, Count: 1})
		return
	}
	m := 0
	for i := 1; i < len(s.c); i++ {
		if s.c[i].Count < s.c[m].Count {
			m = i
		}
	}
	delete(s.idx, s.c[m].Value)
	min := s.c[m].Count
	s.c[m] = counter{Value: str, Count: min + 1, Error: min}
	s.idx[str] = m
	s.evictions++
}

// truncate cuts v to maxValueBytes on a rune boundary.
func truncate(v []byte) []byte {
	n := maxValueBytes
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return v[:n]
}

// top returns up to n counters by count, then value.
func (s *topK) top(n int) []counter {
	out := append([]counter(nil), s.c...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if n > 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

// sketchState is the persisted form of a topK.
type sketchState struct {
	Counters  []counter `json:"counters"`
	Evictions int64     `json:"evictions,omitempty"`
}

func (s *topK) state() sketchState {
	return sketchState{Counters: append([]counter(nil), s.c...), Evictions: s.evictions}
}

func (s *topK) load(st sketchState) {
	s.c = s.c[:0]
	clear(s.idx)
	for _, c := range st.Counters {
		if len(s.c) == s.k {
			break
		}
		s.idx[c.Value] = len(s.c)
		s.c = append(s.c, c)
	}
	s.evictions = st.Evictions
}
