package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
	"github.com/junctionhub/junction/core/workflow"
)

// newClusterServer serves on 127.0.0.1:0 over a JetStream store on c.
func newClusterServer(t *testing.T, c *natstest.Cluster, replicas int) string {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	st, err := jetstream.Open(ctx, jetstream.Options{URL: c.URL(), Replicas: replicas, SecretKey: bytes.Repeat([]byte{7}, store.SecretKeySize), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m, err := connector.NewManager(ctx, connector.ManagerOptions{Store: st, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r, err := connector.NewResolver(m, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := workflow.New(workflow.Options{Store: st, Resolver: r, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	metrics := NewMetrics(st, e.Lag)
	metrics.RegisterNode("eu-1", "jetstream")
	s := New(Options{Store: st, Connections: m, Engine: e, Metrics: metrics, Logger: quiet})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	return "http://" + ln.Addr().String()
}

type readyAnswer struct {
	status   int
	Warnings []string            `json:"warnings"`
	Store    store.ClusterHealth `json:"store"`
	Error    struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details struct {
			Store store.ClusterHealth `json:"store"`
		} `json:"details"`
	} `json:"error"`
	raw string
}

func getReady(t *testing.T, base string) readyAnswer {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := readyAnswer{status: resp.StatusCode, raw: string(b)}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("/readyz answered %d %s: %v", resp.StatusCode, b, err)
	}
	return a
}

// waitReady polls /readyz (its answers are cached for a couple of
// seconds, and the cluster needs a while to notice a lost server) until
// ok accepts an answer.
func waitReady(t *testing.T, base, what string, ok func(readyAnswer) bool) readyAnswer {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := getReady(t, base)
		if ok(a) {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: /readyz still answers %d %s", what, a.status, a.raw)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// A three-server R3 cluster: with one server stopped /readyz stays 200 and
// warns naming it; with two stopped no write can be acknowledged, and
// /readyz answers 503 saying the quorum is lost. /metrics tells the same.
func TestReadyzJetStreamReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster")
	}
	c := natstest.Start(t, t.TempDir(), 3, natstest.Options{})
	t.Cleanup(c.Shutdown)
	base := newClusterServer(t, c, 3)

	a := waitReady(t, base, "all servers up", func(a readyAnswer) bool { return a.status == 200 && a.Store.Current == 3 })
	if len(a.Warnings) > 0 || !a.Store.Connected || a.Store.Leader == "" || a.Store.Replicas != 3 || a.Store.Quorum != 2 || len(a.Store.Peers) != 3 {
		t.Fatalf("healthy cluster: %s", a.raw)
	}
	t.Logf("all up: %s", a.raw)
	metric(t, base, `junction_node_info{node="eu-1",store="jetstream"}`, 1)
	metric(t, base, `junction_jetstream_connected`, 1)
	metric(t, base, `junction_jetstream_replicas_current{stream="JUNCTION"}`, 3)
	metric(t, base, fmt.Sprintf(`junction_jetstream_stream_leader{server=%q,stream="JUNCTION"}`, a.Store.Leader), 1)

	// Stop the stream leader's server: the hardest single loss, as a new
	// leader must be elected.
	first := indexOf(t, c, a.Store.Leader)
	c.Stop(first)
	lost := fmt.Sprintf("n%d", first)
	a = waitReady(t, base, "one server stopped", func(a readyAnswer) bool {
		return a.status == 200 && a.Store.Current == 2 && a.Store.Leader != "" && a.Store.Leader != lost
	})
	t.Logf("one stopped: %s", a.raw)
	if len(a.Warnings) == 0 || !strings.Contains(strings.Join(a.Warnings, " "), "replica "+lost) {
		t.Errorf("one server of three stopped: warnings %q, want one naming replica %s", a.Warnings, lost)
	}
	metric(t, base, `junction_jetstream_ready{stream="JUNCTION"}`, 1)
	metric(t, base, fmt.Sprintf(`junction_jetstream_replica_current{replica=%q,stream="JUNCTION"}`, lost), 0)

	second := (first + 1) % 3
	c.Stop(second)
	a = waitReady(t, base, "two servers stopped", func(a readyAnswer) bool { return a.status == 503 && a.Error.Code != "" })
	if a.Error.Code != store.HealthNoLeader && a.Error.Code != store.HealthNoQuorum && a.Error.Code != store.HealthDisconnected {
		t.Errorf("two of three stopped: code %q", a.Error.Code)
	}
	a = waitReady(t, base, "two servers stopped, reconnected", func(a readyAnswer) bool { return a.status == 503 && a.Error.Code != store.HealthDisconnected })
	t.Logf("two stopped: %s", a.raw)
	if !strings.Contains(a.Error.Message, "quorum") || a.Error.Details.Store.Quorum != 2 || a.Error.Details.Store.Ready {
		t.Errorf("two of three stopped: %s, want a message naming the lost quorum", a.raw)
	}
	metric(t, base, `junction_jetstream_ready{stream="JUNCTION"}`, 0)
}

func indexOf(t *testing.T, c *natstest.Cluster, name string) int {
	t.Helper()
	for i, s := range c.Servers {
		if s.Name() == name {
			return i
		}
	}
	t.Fatalf("no server named %s", name)
	return -1
}

// metric checks one sample of /metrics (labels in the exposition's
// alphabetical order).
func metric(t *testing.T, base, sample string, want float64) {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindStringSubmatch(string(b))
	if m == nil {
		t.Errorf("/metrics lacks %s", sample)
		return
	}
	var got float64
	fmt.Sscan(m[1], &got)
	if got != want {
		t.Errorf("%s = %v, want %v", sample, got, want)
	}
}

// fakeCluster is a replicated store that reports a fixed health.
type fakeCluster struct {
	store.Store
	h store.ClusterHealth
}

func (f fakeCluster) Health(context.Context) store.ClusterHealth { return f.h }

func TestClusterMetrics(t *testing.T) {
	degraded := store.ClusterHealth{
		Engine: "jetstream", Connected: true, Reconnects: 2, Stream: "JUNCTION", Leader: "n0",
		Replicas: 3, Current: 2, Quorum: 2, Ready: true,
		Peers: []store.ReplicaHealth{
			{Name: "n0", Leader: true, Current: true},
			{Name: "n1", Current: true, ActiveSeconds: 0.25},
			{Name: "n2", Offline: true, Lag: 7},
		},
	}
	tests := []struct {
		name string
		h    store.ClusterHealth
		want string
	}{
		{"degraded", degraded, `
# HELP junction_jetstream_connected 1 while the node holds a connection to a NATS server.
# TYPE junction_jetstream_connected gauge
junction_jetstream_connected 1
# HELP junction_jetstream_ready 1 while the stream can acknowledge writes (a leader and a quorum of current replicas).
# TYPE junction_jetstream_ready gauge
junction_jetstream_ready{stream="JUNCTION"} 1
# HELP junction_jetstream_reconnects_total Reconnections of the node's NATS connection since it started.
# TYPE junction_jetstream_reconnects_total counter
junction_jetstream_reconnects_total 2
# HELP junction_jetstream_replica_active_seconds Seconds since the leader last heard from a replica.
# TYPE junction_jetstream_replica_active_seconds gauge
junction_jetstream_replica_active_seconds{replica="n0",stream="JUNCTION"} 0
junction_jetstream_replica_active_seconds{replica="n1",stream="JUNCTION"} 0.25
junction_jetstream_replica_active_seconds{replica="n2",stream="JUNCTION"} 0
# HELP junction_jetstream_replica_current 1 when this replica is up to date with the leader.
# TYPE junction_jetstream_replica_current gauge
junction_jetstream_replica_current{replica="n0",stream="JUNCTION"} 1
junction_jetstream_replica_current{replica="n1",stream="JUNCTION"} 1
junction_jetstream_replica_current{replica="n2",stream="JUNCTION"} 0
# HELP junction_jetstream_replicas Replicas the stream is configured with.
# TYPE junction_jetstream_replicas gauge
junction_jetstream_replicas{stream="JUNCTION"} 3
# HELP junction_jetstream_replicas_current Replicas of the stream, leader included, that are up to date.
# TYPE junction_jetstream_replicas_current gauge
junction_jetstream_replicas_current{stream="JUNCTION"} 2
# HELP junction_jetstream_stream_lag Operations a replica is behind the stream leader.
# TYPE junction_jetstream_stream_lag gauge
junction_jetstream_stream_lag{replica="n0",stream="JUNCTION"} 0
junction_jetstream_stream_lag{replica="n1",stream="JUNCTION"} 0
junction_jetstream_stream_lag{replica="n2",stream="JUNCTION"} 7
# HELP junction_jetstream_stream_leader 1 for the server leading the stream.
# TYPE junction_jetstream_stream_leader gauge
junction_jetstream_stream_leader{server="n0",stream="JUNCTION"} 1
# HELP junction_node_info This node's name (Settings store.node) and store engine; always 1.
# TYPE junction_node_info gauge
junction_node_info{node="eu-1",store="jetstream"} 1
`},
		// Disconnected: no leader to name, no replicas to list.
		{"disconnected", store.ClusterHealth{Engine: "jetstream", Stream: "JUNCTION", Replicas: 3, Reconnects: 5, Code: store.HealthDisconnected}, `
# HELP junction_jetstream_connected 1 while the node holds a connection to a NATS server.
# TYPE junction_jetstream_connected gauge
junction_jetstream_connected 0
# HELP junction_jetstream_ready 1 while the stream can acknowledge writes (a leader and a quorum of current replicas).
# TYPE junction_jetstream_ready gauge
junction_jetstream_ready{stream="JUNCTION"} 0
# HELP junction_jetstream_reconnects_total Reconnections of the node's NATS connection since it started.
# TYPE junction_jetstream_reconnects_total counter
junction_jetstream_reconnects_total 5
# HELP junction_jetstream_replicas Replicas the stream is configured with.
# TYPE junction_jetstream_replicas gauge
junction_jetstream_replicas{stream="JUNCTION"} 3
# HELP junction_jetstream_replicas_current Replicas of the stream, leader included, that are up to date.
# TYPE junction_jetstream_replicas_current gauge
junction_jetstream_replicas_current{stream="JUNCTION"} 0
# HELP junction_node_info This node's name (Settings store.node) and store engine; always 1.
# TYPE junction_node_info gauge
junction_node_info{node="eu-1",store="jetstream"} 1
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics(nil, nil)
			m.registerClusterHealth(fakeCluster{h: tt.h})
			m.RegisterNode("eu-1", "jetstream")
			rec := httptest.NewRecorder()
			promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			var got []string
			for _, l := range strings.Split(rec.Body.String(), "\n") {
				if strings.Contains(l, "junction_jetstream_") || strings.Contains(l, "junction_node_info") {
					got = append(got, l)
				}
			}
			if want := strings.TrimSpace(tt.want); strings.Join(got, "\n") != want {
				t.Errorf("/metrics:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
			}
		})
	}
}

// On Badger, /readyz keeps its shape and /metrics names the node and
// exports no JetStream family.
func TestBadgerNodeMetrics(t *testing.T) {
	s, _ := newTestServer(t, nil)
	s.Metrics().RegisterNode("solo", "badger")
	_, body := do(t, s, "GET", "/metrics", "")
	if !strings.Contains(body, `junction_node_info{node="solo",store="badger"} 1`) {
		t.Error("/metrics lacks junction_node_info for the badger node")
	}
	if strings.Contains(body, "junction_jetstream_") {
		t.Error("/metrics on badger exports jetstream gauges")
	}
}
