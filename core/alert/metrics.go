package alert

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the alerts' Prometheus collectors.
type metrics struct {
	firing   *prometheus.GaugeVec
	sentN    *prometheus.CounterVec
	failedN  *prometheus.CounterVec
	dropped  prometheus.CounterFunc
	firingOn map[string]bool
}

func newMetrics(e *Engine) *metrics {
	return &metrics{
		firing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "junction_alert_firing", Help: "1 while the alert is firing, else 0.",
		}, []string{"alert"}),
		sentN: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_alert_notifications_total", Help: "Alert notices delivered, by alert and kind (firing, repeat, resolved).",
		}, []string{"alert", "kind"}),
		failedN: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "junction_alert_notification_failures_total", Help: "Alert notices that could not be delivered, by alert.",
		}, []string{"alert"}),
		dropped: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "junction_alert_signals_dropped_total", Help: "Signals (runs, fetch jobs, refusals) dropped because the alert queue was full.",
		}, func() float64 { return float64(e.Dropped()) }),
		firingOn: map[string]bool{},
	}
}

// setFiring is called under the Engine's mu.
func (m *metrics) setFiring(alert string, firing bool) {
	if was, seen := m.firingOn[alert]; seen && was == firing {
		return
	}
	m.firingOn[alert] = firing
	v := 0.0
	if firing {
		v = 1
	}
	m.firing.WithLabelValues(alert).Set(v)
}

// forget drops the series of a removed alert; called under the Engine's mu.
func (m *metrics) forget(alert string) {
	delete(m.firingOn, alert)
	m.firing.DeleteLabelValues(alert)
}

func (m *metrics) sent(alert, kind string) { m.sentN.WithLabelValues(alert, kind).Inc() }

func (m *metrics) failed(alert string) { m.failedN.WithLabelValues(alert).Inc() }

// Collectors are the alerts' metrics, for /metrics.
func (e *Engine) Collectors() []prometheus.Collector {
	return []prometheus.Collector{e.metrics.firing, e.metrics.sentN, e.metrics.failedN, e.metrics.dropped}
}
