package jetstream

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

func TestAssess(t *testing.T) {
	peer := func(name string, current, offline bool, lag uint64) *jetstream.PeerInfo {
		return &jetstream.PeerInfo{Name: name, Current: current, Offline: offline, Lag: lag, Active: 3 * time.Second}
	}
	info := func(replicas int, leader string, peers ...*jetstream.PeerInfo) *jetstream.StreamInfo {
		return &jetstream.StreamInfo{
			Config:  jetstream.StreamConfig{Replicas: replicas},
			Cluster: &jetstream.ClusterInfo{Leader: leader, Replicas: peers},
		}
	}
	tests := []struct {
		name      string
		info      *jetstream.StreamInfo
		err       error
		ready     bool
		code      string
		current   int
		mention   []string // in the problem, or in the warnings when ready
		noWarning bool
	}{
		{"R3 all current", info(3, "n0", peer("n1", true, false, 0), peer("n2", true, false, 0)), nil, true, "", 3, nil, true},
		{"R3 one offline", info(3, "n0", peer("n1", true, false, 0), peer("n2", false, true, 0)), nil, true, "", 2,
			[]string{"replica n2 is offline", "2 of 3 replicas current, quorum 2 holds"}, false},
		{"R3 one behind", info(3, "n0", peer("n1", true, false, 0), peer("n2", false, false, 42)), nil, true, "", 2,
			[]string{"replica n2 is behind the leader by 42 operations"}, false},
		{"R3 two offline", info(3, "n0", peer("n1", false, true, 0), peer("n2", false, true, 0)), nil, false, store.HealthNoQuorum, 1,
			[]string{"quorum lost: 1 of 3 replicas", "a write needs 2", "replica n1 is offline", "replica n2 is offline"}, true},
		{"R3 offline counted as not current", info(3, "n0", peer("n1", true, true, 0), peer("n2", true, true, 0)), nil, false, store.HealthNoQuorum, 1, nil, true},
		{"R3 no leader", info(3, "", peer("n1", false, true, 0), peer("n2", true, false, 0)), nil, false, store.HealthNoLeader, 1,
			[]string{"has no leader", "quorum of 2 of its 3"}, true},
		{"R3 unanswered", nil, errors.New("context deadline exceeded"), false, store.HealthNoLeader, 0,
			[]string{"did not answer (context deadline exceeded)", "quorum of 2 of its 3"}, true},
		{"R3 a replica unplaced", info(3, "n0", peer("n1", true, false, 0)), nil, true, "", 2,
			[]string{"1 of 3 replicas not placed"}, false},
		{"R1 clustered", info(1, "n0"), nil, true, "", 1, nil, true},
		{"R1 single server", &jetstream.StreamInfo{Config: jetstream.StreamConfig{Replicas: 1}}, nil, true, "", 1, nil, true},
		{"R5 two offline", info(5, "n0", peer("n1", true, false, 0), peer("n2", true, false, 0), peer("n3", false, true, 0), peer("n4", false, true, 0)), nil, true, "", 3,
			[]string{"replica n3 is offline", "replica n4 is offline", "quorum 3 holds"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := store.ClusterHealth{Stream: "S", Server: "n0", Replicas: 3}
			assess(&h, tt.info, tt.err)
			if h.Ready != tt.ready || h.Code != tt.code || h.Current != tt.current {
				t.Fatalf("ready %v code %q current %d, want %v %q %d (%+v)", h.Ready, h.Code, h.Current, tt.ready, tt.code, tt.current, h)
			}
			text := h.Problem + "\n" + strings.Join(h.Warnings, "\n")
			for _, m := range tt.mention {
				if !strings.Contains(text, m) {
					t.Errorf("%q lacks %q", text, m)
				}
			}
			if tt.noWarning && len(h.Warnings) > 0 {
				t.Errorf("warnings %q, want none", h.Warnings)
			}
			if tt.ready && h.Leader == "" {
				t.Error("ready without a leader")
			}
		})
	}
}

// Health asks the servers once per period, however often it is called.
func TestHealthCached(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	s := openOn(t, c, 1)
	h := s.Health(ctxT(t))
	if !h.Ready || !h.Connected || h.Leader != "n0" || h.Current != 1 || h.Replicas != 1 || h.Engine != "jetstream" {
		t.Fatalf("health of a running R1 stream: %+v", h)
	}
	if again := s.Health(ctxT(t)); !again.CheckedAt.Equal(h.CheckedAt) {
		t.Errorf("asked the servers again at once: checked %v then %v", h.CheckedAt, again.CheckedAt)
	}
	again := s.Health(ctxT(t))
	again.Peers[0].Name = "changed"
	if s.Health(ctxT(t)).Peers[0].Name != "n0" {
		t.Error("a caller changed the cached answer")
	}
	_ = s.Close()
	s.health.at = time.Time{} // the period is over
	if h := s.Health(ctxT(t)); h.Ready || h.Code != store.HealthDisconnected {
		t.Errorf("health of a closed store: %+v", h)
	}
}

func TestProbe(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	if _, err := Probe(ctxT(t), Options{URL: c.URL()}); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("Probe before any node created the stream: %v, want ErrStreamNotFound", err)
	}
	openOn(t, c, 1)
	h, err := Probe(ctxT(t), Options{URL: c.URL()})
	if err != nil || !h.Ready || h.Replicas != 1 || h.Leader != "n0" {
		t.Fatalf("Probe: %+v, %v", h, err)
	}
	if _, err := Probe(ctxT(t), Options{URL: "nats://127.0.0.1:1"}); err == nil {
		t.Error("Probe of a server that is not there: no error")
	}
}
