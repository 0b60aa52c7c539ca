package console

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Alerts gives the alerts page its data: every configured alert and the
// recent notices.
type Alerts interface {
	Alerts(ctx context.Context) (AlertsInfo, error)
}

// AlertsInfo is the alerts, firing first, and the recent notices, newest
// first.
type AlertsInfo struct {
	Alerts []AlertInfo
	Recent []AlertNotice
	// Dropped counts the signals the alert queue could not take.
	Dropped int64
}

// AlertInfo is one configured alert.
type AlertInfo struct {
	Name, Condition, Summary, Notify, Cooldown string
	Firing                                     bool
	Since, LastNotice                          time.Time
	Occurrences                                int
	LastDetail                                 string
}

// AlertNotice is one notice an alert sent (or tried to).
type AlertNotice struct {
	Alert, Kind, Text, Delivery, Error string
	Occurrences                        int
	At                                 time.Time
}

type alertsView struct {
	base
	Available bool
	Firing    int
	AlertsInfo
	Err string
}

// alertsPage lists the alerts, firing ones first, and the recent notices.
func (con *Console) alertsPage(c *fiber.Ctx) error {
	v := &alertsView{Available: con.o.Alerts != nil}
	v.Title, v.Section = "Alerts", "alerts"
	if con.o.Alerts != nil {
		info, err := con.o.Alerts.Alerts(c.UserContext())
		if err != nil {
			v.Err = err.Error()
		}
		v.AlertsInfo = info
		for _, a := range info.Alerts {
			if a.Firing {
				v.Firing++
			}
		}
	}
	return con.render(c, fiber.StatusOK, "alerts", v)
}
