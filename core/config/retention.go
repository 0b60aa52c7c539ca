package config

import (
	"time"

	"gopkg.in/yaml.v3"
)

// Retention says how long the store keeps what it holds and how much disk
// it may use (Settings key retention). YAML:
//
//	retention:
//	  events: 7d            # inbound events, by the time they were received
//	  runs: 30d             # finished runs (their input payload goes with them)
//	  dead_letters: 90d     # dead-lettered runs, unless replayed before
//	  max_data_bytes: 20GiB # optional cap on the data dir; oldest events, then runs, go first
//	  min_free_bytes: 256MiB # writes are refused (503) below this much free space
//
// Dedup keys are not listed: each expires when its own window
// (dedup_window) ends.
type Retention struct {
	Events      time.Duration
	Runs        time.Duration
	DeadLetters time.Duration
	// MaxDataBytes caps the data directory; zero means no cap.
	MaxDataBytes int64
	// MinFreeBytes is the free space the store keeps on its file system.
	// Badger writes through memory-mapped files, and a write that finds the
	// disk full kills the process (SIGBUS) instead of returning an error,
	// so the store refuses writes before that point, leaving room for the
	// memtable flushes and compactions already under way.
	MinFreeBytes int64
}

// DefaultRetention is the retention used when Settings sets none.
func DefaultRetention() Retention {
	return Retention{
		Events:       7 * 24 * time.Hour,
		Runs:         30 * 24 * time.Hour,
		DeadLetters:  90 * 24 * time.Hour,
		MinFreeBytes: 256 << 20,
	}
}

// minFreeFloor is the smallest min_free_bytes accepted: below it, one
// memtable flush can use the rest of the disk.
const minFreeFloor = 8 << 20

// retention decodes a retention block; absent keys keep the defaults.
func (d *decoder) retention(n *yaml.Node, path string) Retention {
	r := DefaultRetention()
	o := d.object(n, path, "events", "runs", "dead_letters", "max_data_bytes", "min_free_bytes")
	if o == nil {
		return r
	}
	for key, dst := range map[string]*time.Duration{"events": &r.Events, "runs": &r.Runs, "dead_letters": &r.DeadLetters} {
		if v := o.get(key); v != nil {
			if t, ok := d.duration(v, o.sub(key)); ok {
				*dst = t
			}
		}
	}
	if v := o.get("max_data_bytes"); v != nil {
		if n, ok := d.size(v, o.sub("max_data_bytes")); ok {
			r.MaxDataBytes = n
		}
	}
	if v := o.get("min_free_bytes"); v != nil {
		if n, ok := d.size(v, o.sub("min_free_bytes")); ok {
			if n < minFreeFloor {
				d.errorf(deref(v), o.sub("min_free_bytes"), "want at least 8MiB (room for a memtable flush), got %q", deref(v).Value)
			} else {
				r.MinFreeBytes = n
			}
		}
	}
	return r
}
