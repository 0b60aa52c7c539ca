package abi

import "encoding/binary"

// MultiCache keeps the encoding of the last map written through
// Encoder.MultiCached. A connector nearly always answers with the same
// response headers (one shared Content-Type map), and in a Go guest
// iterating a map, even of one entry, costs more than looking its keys up:
// the hello mapping spent 3 % of its guest time encoding that map per call
// (pluginsdk/RATIONALE.md §8). The zero value is an empty cache.
type MultiCache struct {
	enc []byte // the last encoding, as Multi wrote it; nil when none is kept
}

// maxCachedMulti bounds what a cache keeps: larger header sets are rare and
// would cost more to check than to encode.
const maxCachedMulti = 1024

// MultiCached writes m as Multi does. When m holds exactly the entries of the
// map encoded last time through c (the same number of keys, each with equal
// values, so the same content whatever the map's identity), it appends the
// saved bytes instead of iterating m; otherwise it encodes m and saves that.
// Key order in the output is unspecified either way, as with Multi.
func (e *Encoder) MultiCached(m map[string][]string, c *MultiCache) {
	if c.enc != nil && RawMulti(c.enc).equal(m) {
		e.B = append(e.B, c.enc...)
		return
	}
	start := len(e.B)
	e.Multi(m)
	if n := len(e.B) - start; n <= maxCachedMulti {
		c.enc = append(c.enc[:0], e.B[start:]...)
	} else {
		c.enc = nil
	}
}

// equal reports whether r, a well-formed encoding of a map (as Multi writes
// it), holds the same entries as m. Its keys are distinct, so when their
// count is len(m) and each is in m with equal values, the contents are the
// same.
func (r RawMulti) equal(m map[string][]string) bool {
	if len(r) < 4 || int(binary.LittleEndian.Uint32(r)) != len(m) {
		return false
	}
	off := 4
	next := func() []byte {
		l := int(binary.LittleEndian.Uint32(r[off:]))
		off += 4
		s := r[off : off+l]
		off += l
		return s
	}
	for range len(m) {
		vs, ok := m[string(next())]
		c := int(binary.LittleEndian.Uint32(r[off:]))
		off += 4
		if !ok || len(vs) != c {
			return false
		}
		for _, v := range vs {
			if string(next()) != v {
				return false
			}
		}
	}
	return true
}
