package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/junctionhub/junction/core/store"
)

// clusterHealther is a replicated store that reports its connection and
// copies (store/jetstream). Its answers are cached by the store, so
// /readyz and /metrics may ask on every request.
type clusterHealther interface {
	Health(ctx context.Context) store.ClusterHealth
}

// readyCluster answers /readyz for a replicated store: 503 when no write
// could be acknowledged (no connection, no leader, no quorum of current
// copies), 200 with warnings while a quorum holds but a copy is offline or
// behind, so a balancer keeps sending pushes and an operator still sees
// that one more loss stops them.
func (s *Server) readyCluster(c *fiber.Ctx, ch clusterHealther) error {
	h := ch.Health(c.UserContext())
	if !h.Ready {
		c.Set(fiber.HeaderRetryAfter, "5")
		return apiError(c, fiber.StatusServiceUnavailable, h.Code, h.Problem, fiber.Map{"store": h})
	}
	body := fiber.Map{"status": "ready", "logLag": s.o.Engine.Lag(), "store": h}
	if len(h.Warnings) > 0 {
		body["warnings"] = h.Warnings
	}
	return c.JSON(body)
}

// RegisterNode exports junction_node_info{node, store} 1: every node of a
// cluster serves its own /metrics, and this names the node a scrape came
// from and the store it runs on. Call it once.
func (m *Metrics) RegisterNode(node, storeType string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "junction_node_info", Help: "This node's name (Settings store.node) and store engine; always 1.",
	}, []string{"node", "store"})
	g.WithLabelValues(node, storeType).Set(1)
	m.reg.MustRegister(g)
}

// registerClusterHealth exports a replicated store's health, read at
// scrape time from the store's cached answer (one request to the servers
// per cache period however often Prometheus scrapes).
func (m *Metrics) registerClusterHealth(st store.Store) {
	ch, ok := st.(clusterHealther)
	if !ok {
		return
	}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("junction_jetstream_"+name, help, labels, nil)
	}
	m.reg.MustRegister(&clusterCollector{
		ch:             ch,
		connected:      d("connected", "1 while the node holds a connection to a NATS server."),
		reconnects:     d("reconnects_total", "Reconnections of the node's NATS connection since it started."),
		ready:          d("ready", "1 while the stream can acknowledge writes (a leader and a quorum of current replicas).", "stream"),
		replicas:       d("replicas", "Replicas the stream is configured with.", "stream"),
		current:        d("replicas_current", "Replicas of the stream, leader included, that are up to date.", "stream"),
		leader:         d("stream_leader", "1 for the server leading the stream.", "stream", "server"),
		replicaCurrent: d("replica_current", "1 when this replica is up to date with the leader.", "stream", "replica"),
		replicaLag:     d("stream_lag", "Operations a replica is behind the stream leader.", "stream", "replica"),
		replicaActive:  d("replica_active_seconds", "Seconds since the leader last heard from a replica.", "stream", "replica"),
	})
}

type clusterCollector struct {
	ch                                                clusterHealther
	connected, reconnects, ready, replicas, current   *prometheus.Desc
	leader, replicaCurrent, replicaLag, replicaActive *prometheus.Desc
}

func (c *clusterCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.connected, c.reconnects, c.ready, c.replicas, c.current, c.leader, c.replicaCurrent, c.replicaLag, c.replicaActive} {
		ch <- d
	}
}

func (c *clusterCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := c.ch.Health(ctx)
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(c.connected, bit(h.Connected))
	ch <- prometheus.MustNewConstMetric(c.reconnects, prometheus.CounterValue, float64(h.Reconnects))
	gauge(c.ready, bit(h.Ready), h.Stream)
	gauge(c.replicas, float64(h.Replicas), h.Stream)
	gauge(c.current, float64(h.Current), h.Stream)
	if h.Leader != "" {
		gauge(c.leader, 1, h.Stream, h.Leader)
	}
	for _, p := range h.Peers {
		gauge(c.replicaCurrent, bit(p.Current), h.Stream, p.Name)
		gauge(c.replicaLag, float64(p.Lag), h.Stream, p.Name)
		gauge(c.replicaActive, p.ActiveSeconds, h.Stream, p.Name)
	}
}

func bit(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
