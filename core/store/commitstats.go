package store

import "time"

// CommitStats counts the group commits of a store since it was opened: how
// many synced transactions, how many callers' ops they carried, and the time
// spent committing them (syncs included). Ops per commit is how well
// concurrent writers share a sync; time per commit is what the disk costs.
type CommitStats struct {
	Commits int64
	Ops     int64
	Took    time.Duration
}

// CommitStats reports the store's group commits so far (/metrics).
func (b *Badger) CommitStats() CommitStats {
	s := &b.commit.stats
	return CommitStats{Commits: s.commits.Load(), Ops: s.ops.Load(), Took: time.Duration(s.nanos.Load())}
}
