package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/junctionhub/junction/core/store"
)

// commitStatser is a store that counts its group commits (store.Badger).
type commitStatser interface{ CommitStats() store.CommitStats }

// registerCommitStats exports the store's group commits, read at scrape
// time: with the ops they carried and the time they took, they show whether
// ingest waits on the disk (time per commit) or on writers sharing syncs
// badly (ops per commit).
func (m *Metrics) registerCommitStats(st store.Store) {
	cs, ok := st.(commitStatser)
	if !ok {
		return
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "junction_store_commits_total", Help: "Synced store transactions (group commits).",
		}, func() float64 { return float64(cs.CommitStats().Commits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "junction_store_commit_ops_total", Help: "Writers' operations (appends, run and KV writes) carried by the group commits.",
		}, func() float64 { return float64(cs.CommitStats().Ops) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "junction_store_commit_seconds_total", Help: "Time spent committing, syncs included.",
		}, func() float64 { return cs.CommitStats().Took.Seconds() }),
	)
}
