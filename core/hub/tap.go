package hub

import (
	"time"

	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/tap"
	"github.com/junctionhub/junction/core/tap/tapapi"
)

// newTap builds the live tap's broker. It comes before everything that
// publishes into it (the engine, the fetch runner, the server's hooks),
// and it is closed before the HTTP server shuts down, so that open streams
// end rather than hold up the drain.
func newTap() *tap.Broker { return tap.New() }

// newTapAPI serves GET /api/v1/tap, and the console's live views, over
// the broker.
func newTapAPI(h *Hub) *tapapi.API {
	return &tapapi.API{
		Broker:     h.Tap,
		Logger:     h.log,
		Connection: func(name string) bool { _, ok := h.Conns.Get(name); return ok },
		Workflow: func(name string) (string, bool) {
			wf := h.CurrentBundle().Workflow(name)
			if wf == nil {
				return "", false
			}
			return wf.Trigger.Connection, true
		},
	}
}

// fetchObserver tells the data overview and the tap about fetched records.
type fetchObserver struct {
	fetch.Observer
	tap *tap.Broker
}

func (o fetchObserver) Observe(connection, entity string, payload []byte, at time.Time) {
	o.Observer.Observe(connection, entity, payload, at)
	o.tap.PublishRecord(connection, entity, payload, at)
}
