package store

import "time"

// ClusterHealth is what a replicated store (store/jetstream) tells about
// its connection and its copies, for /readyz, /metrics and `junction
// doctor`. An embedded store has none: it is ready when it can write.
type ClusterHealth struct {
	// Engine names the store ("jetstream").
	Engine string `json:"engine"`
	// Connected: the node holds a connection to a server of the cluster.
	Connected bool `json:"connected"`
	// Server is the name of the server the node is connected to, URL its
	// address with any password removed.
	Server string `json:"server,omitempty"`
	URL    string `json:"url,omitempty"`
	// Reconnects counts the connection's reconnections since the node
	// started.
	Reconnects uint64 `json:"reconnects"`
	// Stream is the stream (or equivalent) that holds the state.
	Stream string `json:"stream"`
	// Leader is the server that orders writes; empty when there is none.
	Leader string `json:"leader,omitempty"`
	// Replicas is the number of copies the store keeps, Current how many
	// of them (leader included) are up to date, Quorum how many must be
	// for a write to be acknowledged.
	Replicas int `json:"replicas"`
	Current  int `json:"current"`
	Quorum   int `json:"quorum"`
	// Peers is every copy, leader first.
	Peers []ReplicaHealth `json:"peers,omitempty"`
	// Ready: writes can be acknowledged. When not, Code and Problem say
	// why.
	Ready   bool   `json:"ready"`
	Code    string `json:"code,omitempty"`
	Problem string `json:"problem,omitempty"`
	// Warnings name what is degraded while the store stays ready (a copy
	// offline or behind, with a quorum still current).
	Warnings []string `json:"warnings,omitempty"`
	// CheckedAt is when the servers were asked (answers are cached
	// briefly, so a polling balancer does not load the cluster).
	CheckedAt time.Time `json:"checkedAt"`
}

// ReplicaHealth is one copy of a replicated store.
type ReplicaHealth struct {
	Name   string `json:"name"`
	Leader bool   `json:"leader,omitempty"`
	// Current: up to date with the leader and seen recently.
	Current bool `json:"current"`
	// Offline: the cluster considers the server gone.
	Offline bool `json:"offline,omitempty"`
	// Lag is how many operations the copy is behind the leader.
	Lag uint64 `json:"lag,omitempty"`
	// ActiveSeconds is how long ago the leader last heard from it.
	ActiveSeconds float64 `json:"activeSeconds"`
}

// Codes of ClusterHealth.Code.
const (
	HealthDisconnected = "store_disconnected" // no connection to any server
	HealthNoLeader     = "store_no_leader"    // nobody orders writes: no quorum reachable
	HealthNoQuorum     = "store_no_quorum"    // a leader, but too few current copies to acknowledge
)
