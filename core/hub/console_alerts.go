package hub

import (
	"context"

	"github.com/junctionhub/junction/core/alert"
	"github.com/junctionhub/junction/core/server/console"
)

// consoleAlerts adapts the alert engine to the console's alerts page.
type consoleAlerts struct{ e *alert.Engine }

func (a consoleAlerts) Alerts(context.Context) (console.AlertsInfo, error) {
	s := a.e.Status()
	out := console.AlertsInfo{Dropped: int64(s.Dropped)}
	for _, x := range s.Alerts {
		out.Alerts = append(out.Alerts, console.AlertInfo{
			Name: x.Name, Condition: x.Condition, Summary: x.Summary, Notify: x.Notify, Cooldown: x.Cooldown,
			Firing: x.Firing, Since: x.Since, LastNotice: x.LastNotice, Occurrences: x.Occurrences, LastDetail: x.LastDetail,
		})
	}
	for _, n := range s.Recent {
		out.Recent = append(out.Recent, console.AlertNotice{
			Alert: n.Alert, Kind: n.Kind, Text: n.Text, Delivery: n.Delivery, Error: n.Error, Occurrences: n.Occurrences, At: n.At,
		})
	}
	return out, nil
}
