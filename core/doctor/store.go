package doctor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
)

// checkStore reports the store the Settings select. Badger is checked as
// the data dir (datadir.go) and is not opened. A JetStream stream is asked
// for its health, which reads and changes nothing: the same answer
// /readyz gives on a running node, so a cluster that could not
// acknowledge a write fails here before a node is started on it.
func checkStore(ctx context.Context, r *Report, s config.Settings) {
	node := s.Store.NodeName()
	if s.Store.Type != config.StoreJetStream {
		r.add(OK, "store", "badger in %s (node %s)", filepath.Join(s.DataDir, "badger"), node)
		return
	}
	h, err := jetstream.Probe(ctx, jetstream.Options{
		URL: s.Store.URL, Credentials: s.Store.Credentials, Stream: s.Store.Stream, Replicas: s.Store.Replicas,
	})
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		r.add(Warn, "store", "jetstream: stream %s does not exist on %s yet; the first node to start creates it with %d replicas",
			h.Stream, h.URL, s.Store.Replicas)
		return
	case err != nil:
		r.add(Fail, "store", "jetstream: %v", err)
		return
	case !h.Ready:
		r.add(Fail, "store", "jetstream: %s", h.Problem)
		return
	}
	for _, w := range h.Warnings {
		r.add(Warn, "store", "jetstream: %s", w)
	}
	r.add(OK, "store", "jetstream stream %s via %s (server %s): leader %s, %d of %d replicas current (quorum %d)%s; node %s",
		h.Stream, h.URL, h.Server, h.Leader, h.Current, h.Replicas, h.Quorum, replicaList(h.Peers), node)
}

// replicaList names the replicas and their state, " [n0 leader, n1, n2 offline]".
func replicaList(peers []store.ReplicaHealth) string {
	if len(peers) < 2 {
		return ""
	}
	parts := make([]string, len(peers))
	for i, p := range peers {
		switch {
		case p.Leader:
			parts[i] = p.Name + " leader"
		case p.Offline:
			parts[i] = p.Name + " offline"
		case !p.Current:
			parts[i] = fmt.Sprintf("%s behind by %d", p.Name, p.Lag)
		default:
			parts[i] = p.Name
		}
	}
	return " [" + strings.Join(parts, ", ") + "]"
}
