package server

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register adds collectors of other subsystems (alerts) to /metrics.
func (m *Metrics) Register(cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("register metrics collector: %w", err)
		}
	}
	return nil
}

// OnRejected sets f to be told about refused pushes (n of them), by
// connection and reason (the labels of junction_events_rejected_total),
// after they are counted. f runs on the request's goroutine, so it must
// not block. Set it before serving.
func (m *Metrics) OnRejected(f func(conn, reason string, n int)) { m.onReject = f }

func (m *Metrics) notifyRejected(conn, reason string, n int) {
	if m.onReject != nil {
		m.onReject(conn, reason, n)
	}
}
