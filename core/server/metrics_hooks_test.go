package server

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/junctionhub/junction/pluginsdk"
)

// TestOnRejected: each refused push is reported with its connection and
// reason after it is counted; an accepted one is not. Register adds a
// collector to /metrics.
func TestOnRejected(t *testing.T) {
	s, _ := newTestServer(t, pluginsdk.Unauthorized("wrong key"))
	type refusal struct {
		conn, reason string
		n            int
	}
	var got []refusal
	s.o.Metrics.OnRejected(func(conn, reason string, n int) { got = append(got, refusal{conn, reason, n}) })
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "junction_test_extra", Help: "test"})
	g.Set(7)
	if err := s.o.Metrics.Register(g); err != nil {
		t.Fatal(err)
	}
	do(t, s, "POST", "/hooks/echo", "1")
	do(t, s, "POST", "/hooks/nope", "1")
	if len(got) != 2 || got[0] != (refusal{"echo", "unauthorized", 1}) || got[1] != (refusal{"", "unknown_connection", 1}) {
		t.Fatalf("reported %+v", got)
	}
	if _, body := do(t, s, "GET", "/metrics", ""); !strings.Contains(body, "junction_test_extra 7") {
		t.Error("registered collector missing from /metrics")
	}
}
