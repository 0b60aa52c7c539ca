package server

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/workflow"
)

// Metrics is Junction's Prometheus registry. It implements
// workflow.Observer so the engine reports run and task outcomes to it.
type Metrics struct {
	reg           *prometheus.Registry
	eventsRecv    *prometheus.CounterVec
	eventsAccept  *prometheus.CounterVec
	eventsDup     *prometheus.CounterVec
	eventsReject  *prometheus.CounterVec
	runsFinished  *prometheus.CounterVec
	taskLatency   *prometheus.HistogramVec
	dispatchedSeq prometheus.Gauge
	// onReject is told about refusals (metrics_hooks.go).
	onReject func(conn, reason string, n int)
}

var _ workflow.Observer = (*Metrics)(nil)

// NewMetrics registers the collectors. st and lag feed gauges read at
// scrape time (runs by status, log lag); either may be nil (see ObserveLag).
func NewMetrics(st store.Store, lag func() uint64) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.eventsRecv = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "junction_events_received_total", Help: "Inbound push requests received, by connection.",
	}, []string{"connection"})
	m.eventsAccept = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "junction_events_accepted_total", Help: "Events durably appended to the log, by connection.",
	}, []string{"connection"})
	m.eventsDup = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "junction_events_duplicate_total", Help: "Events dropped as duplicates inside the dedup window, by connection.",
	}, []string{"connection"})
	m.eventsReject = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "junction_events_rejected_total", Help: "Inbound requests or batch items rejected, by connection and reason.",
	}, []string{"connection", "reason"})
	m.runsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "junction_runs_finished_total", Help: "Workflow runs that reached a final status, by workflow and status.",
	}, []string{"workflow", "status"})
	m.taskLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "junction_task_duration_seconds", Help: "Duration of task attempts, by workflow and outcome.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 14),
	}, []string{"workflow", "status"})
	m.dispatchedSeq = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "junction_dispatched_seq", Help: "Log sequence of the last event the dispatcher handled.",
	})
	m.reg.MustRegister(m.eventsRecv, m.eventsAccept, m.eventsDup, m.eventsReject, m.runsFinished, m.taskLatency, m.dispatchedSeq,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if lag != nil {
		m.ObserveLag(lag)
	}
	if st != nil {
		m.registerCommitStats(st)
		m.registerClusterHealth(st)
		m.reg.MustRegister(&runsByStatus{st: st, desc: prometheus.NewDesc("junction_runs", "Stored workflow runs by status.", []string{"status"}, nil)})
	}
	return m
}

// ObserveLag exports lag (logged events the dispatcher has not handled) as
// a gauge read at scrape time. The engine reports to the metrics, so it is
// built after them; its lag is added once it exists. Call it once.
func (m *Metrics) ObserveLag(lag func() uint64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "junction_log_lag_events", Help: "Logged events the dispatcher has not handled yet.",
	}, func() float64 { return float64(lag()) }))
}

// Handler serves /metrics.
func (m *Metrics) Handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

func (m *Metrics) received(conn string) { m.eventsRecv.WithLabelValues(conn).Inc() }

func (m *Metrics) accepted(conn string, n, dups int) {
	m.eventsAccept.WithLabelValues(conn).Add(float64(n))
	if dups > 0 {
		m.eventsDup.WithLabelValues(conn).Add(float64(dups))
	}
}

func (m *Metrics) rejected(conn, reason string) {
	m.eventsReject.WithLabelValues(conn, reason).Inc()
	m.notifyRejected(conn, reason, 1)
}

func (m *Metrics) rejectedN(conn, reason string, n int) {
	m.eventsReject.WithLabelValues(conn, reason).Add(float64(n))
	m.notifyRejected(conn, reason, n)
}

// RunFinished implements workflow.Observer.
func (m *Metrics) RunFinished(wf, status string) { m.runsFinished.WithLabelValues(wf, status).Inc() }

// TaskFinished implements workflow.Observer.
func (m *Metrics) TaskFinished(wf, _ string, status string, d time.Duration) {
	m.taskLatency.WithLabelValues(wf, status).Observe(d.Seconds())
}

// Dispatched implements workflow.Observer.
func (m *Metrics) Dispatched(seq uint64) { m.dispatchedSeq.Set(float64(seq)) }

type runsByStatus struct {
	st   store.Store
	desc *prometheus.Desc
}

func (r *runsByStatus) Describe(ch chan<- *prometheus.Desc) { ch <- r.desc }

func (r *runsByStatus) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := r.st.Runs().Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(r.desc, err)
		return
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, float64(n), status)
	}
}
