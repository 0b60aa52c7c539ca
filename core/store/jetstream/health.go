package jetstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/junctionhub/junction/core/store"
)

// healthTTL is how long one answer of the servers is reused. A load
// balancer may poll /readyz several times a second on every node, and a
// stream info request is answered by the stream leader: caching keeps
// that cost at one request per node per TTL, and a change shows within it.
const healthTTL = 2 * time.Second

// healthTimeout bounds the stream info request: a /readyz that waits for
// the whole request timeout would itself time out at the balancer.
const healthTimeout = 2 * time.Second

// healthCache is the last answer (zero value ready to use). Its mutex is
// held while the servers are asked, so concurrent callers wait for that
// one request instead of each sending their own.
type healthCache struct {
	mu   sync.Mutex
	last store.ClusterHealth
	at   time.Time
	// lastLeader outlives answers without a leader.
	lastLeader string
}

// Health reports the connection and the stream's replicas, asking the
// servers at most once per healthTTL. It never fails: what cannot be
// learnt makes the answer not ready, with the reason.
func (s *Store) Health(ctx context.Context) store.ClusterHealth {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	if !s.health.at.IsZero() && time.Since(s.health.at) < healthTTL {
		return cloneHealth(s.health.last)
	}
	h := s.checkHealth(ctx)
	// Without a leader nobody can list the replicas; the last leader seen
	// tells an operator where to start looking.
	switch {
	case h.Leader != "":
		s.health.lastLeader = h.Leader
	case h.Code != "" && s.health.lastLeader != "":
		h.Problem += "; the last leader seen was " + s.health.lastLeader
	}
	s.health.last, s.health.at = h, time.Now()
	return cloneHealth(h)
}

func (s *Store) checkHealth(ctx context.Context) store.ClusterHealth {
	h := store.ClusterHealth{
		Engine: "jetstream", Stream: s.name, CheckedAt: time.Now().UTC(),
		Reconnects: s.nc.Stats().Reconnects,
	}
	if ci := s.stream.CachedInfo(); ci != nil {
		h.Replicas = ci.Config.Replicas
	}
	if s.isClosed() {
		notReady(&h, store.HealthDisconnected, "the store is closed")
		return h
	}
	if !s.nc.IsConnected() {
		notReady(&h, store.HealthDisconnected, fmt.Sprintf("not connected to any NATS server (connection %s, %d reconnects so far)",
			strings.ToLower(s.nc.Status().String()), h.Reconnects))
		return h
	}
	h.Connected, h.Server, h.URL = true, s.nc.ConnectedServerName(), s.nc.ConnectedUrlRedacted()
	ctx, cancel := context.WithTimeout(ctx, min(healthTimeout, s.to))
	defer cancel()
	info, err := s.stream.Info(ctx)
	assess(&h, info, err)
	return h
}

// Probe connects to the servers of o.URL, reports the health of the
// existing stream o.Stream and disconnects. It creates and changes
// nothing (`junction doctor`); a stream that does not exist yet is
// jetstream.ErrStreamNotFound.
func Probe(ctx context.Context, o Options) (store.ClusterHealth, error) {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	opts := []nats.Option{nats.Name("junction-doctor"), nats.Timeout(healthTimeout), nats.NoReconnect()}
	if o.Credentials != "" {
		opts = append(opts, nats.UserCredentials(o.Credentials))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return store.ClusterHealth{}, fmt.Errorf("connect %s: %w", redactURL(o.URL), err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return store.ClusterHealth{}, fmt.Errorf("jetstream on %s: %w", redactURL(o.URL), err)
	}
	h := store.ClusterHealth{
		Engine: "jetstream", Stream: o.Stream, CheckedAt: time.Now().UTC(),
		Connected: true, Server: nc.ConnectedServerName(), URL: nc.ConnectedUrlRedacted(), Replicas: o.Replicas,
	}
	ctx, cancel := context.WithTimeout(ctx, 2*healthTimeout)
	defer cancel()
	st, err := js.Stream(ctx, o.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return h, fmt.Errorf("stream %s: %w", o.Stream, err)
	}
	var info *jetstream.StreamInfo
	if err == nil {
		info = st.CachedInfo()
	}
	assess(&h, info, err)
	return h, nil
}

// assess fills h from the stream's info (or the error asking for it).
// Not ready: no leader, or fewer current replicas than a quorum, for then
// no write can be acknowledged. Ready with warnings: a quorum is current
// and some replica is offline or behind, so one more loss stops writes.
func assess(h *store.ClusterHealth, info *jetstream.StreamInfo, err error) {
	if h.Replicas < 1 {
		h.Replicas = 1
	}
	if info != nil && info.Config.Replicas > 0 {
		h.Replicas = info.Config.Replicas
	}
	h.Quorum = h.Replicas/2 + 1
	if err != nil {
		// Stream info is answered by the stream leader: no answer means
		// there is none, or none this node can reach.
		notReady(h, store.HealthNoLeader, fmt.Sprintf(
			"stream %s did not answer (%v): it has no leader, so fewer than a quorum of %d of its %d replicas are reachable",
			h.Stream, err, h.Quorum, h.Replicas))
		return
	}
	if info.Cluster == nil {
		// A server without clustering holds the only copy and leads it.
		h.Leader = h.Server
		h.Peers = []store.ReplicaHealth{{Name: h.Server, Leader: true, Current: true}}
		h.Current = 1
	} else {
		h.Leader = info.Cluster.Leader
		if h.Leader != "" {
			h.Peers = append(h.Peers, store.ReplicaHealth{Name: h.Leader, Leader: true, Current: true})
			h.Current = 1
		}
		for _, p := range info.Cluster.Replicas {
			if p == nil {
				continue
			}
			r := store.ReplicaHealth{
				Name: p.Name, Current: p.Current && !p.Offline && !p.Pending, Offline: p.Offline,
				Lag: p.Lag, ActiveSeconds: p.Active.Seconds(),
			}
			if r.Current {
				h.Current++
			}
			h.Peers = append(h.Peers, r)
		}
	}
	var behind []string
	for _, p := range h.Peers {
		if !p.Current {
			behind = append(behind, describeReplica(p))
		}
	}
	if missing := h.Replicas - len(h.Peers); missing > 0 && h.Leader != "" {
		behind = append(behind, fmt.Sprintf("%d of %d replicas not placed on any server", missing, h.Replicas))
	}
	switch {
	case h.Leader == "":
		notReady(h, store.HealthNoLeader, fmt.Sprintf("stream %s has no leader: fewer than a quorum of %d of its %d replicas are current (%s)",
			h.Stream, h.Quorum, h.Replicas, joinOr(behind, "none reported")))
	case h.Current < h.Quorum:
		notReady(h, store.HealthNoQuorum, fmt.Sprintf("quorum lost: %d of %d replicas of stream %s are current, a write needs %d (%s)",
			h.Current, h.Replicas, h.Stream, h.Quorum, joinOr(behind, "none reported")))
	default:
		h.Ready = true
		for _, b := range behind {
			h.Warnings = append(h.Warnings, fmt.Sprintf("stream %s: %s; %d of %d replicas current, quorum %d holds", h.Stream, b, h.Current, h.Replicas, h.Quorum))
		}
	}
}

func describeReplica(p store.ReplicaHealth) string {
	// The leader reports no activity for a server it considers gone.
	seen := ""
	if p.ActiveSeconds > 0 {
		seen = fmt.Sprintf(" (last seen %.0fs ago)", p.ActiveSeconds)
	}
	switch {
	case p.Offline:
		return fmt.Sprintf("replica %s is offline%s", p.Name, seen)
	case p.Lag > 0:
		return fmt.Sprintf("replica %s is behind the leader by %d operations%s", p.Name, p.Lag, seen)
	default:
		return fmt.Sprintf("replica %s is not current%s", p.Name, seen)
	}
}

func notReady(h *store.ClusterHealth, code, problem string) {
	h.Ready, h.Code, h.Problem = false, code, problem
}

func joinOr(parts []string, none string) string {
	if len(parts) == 0 {
		return none
	}
	return strings.Join(parts, "; ")
}

// cloneHealth copies the slices, so a caller cannot change the cache.
func cloneHealth(h store.ClusterHealth) store.ClusterHealth {
	h.Peers = slices.Clone(h.Peers)
	h.Warnings = slices.Clone(h.Warnings)
	return h
}

// ErrStreamNotFound is Probe's error for a stream no node has created yet.
var ErrStreamNotFound = jetstream.ErrStreamNotFound
