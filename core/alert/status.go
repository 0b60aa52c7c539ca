package alert

import (
	"slices"
	"strings"
	"time"
)

// AlertStatus is one configured alert as the API and console show it.
type AlertStatus struct {
	Name      string `json:"name"`
	Condition string `json:"condition"`
	Summary   string `json:"summary"`
	// Notify is the connection notices go through.
	Notify   string    `json:"notify"`
	Cooldown string    `json:"cooldown"`
	Firing   bool      `json:"firing"`
	Since    time.Time `json:"since,omitzero"`
	// Occurrences counts the current episode's occurrences.
	Occurrences int       `json:"occurrences,omitempty"`
	LastNotice  time.Time `json:"lastNotice,omitzero"`
	LastDetail  string    `json:"lastDetail,omitempty"`
}

// Status is every alert (firing first, then by name) and the recent
// notices, newest first.
type Status struct {
	Alerts  []AlertStatus `json:"alerts"`
	Recent  []Notice      `json:"recent"`
	Dropped uint64        `json:"droppedSignals"`
}

// Status returns a snapshot of the alerts and recent notices.
func (e *Engine) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Status{Alerts: []AlertStatus{}, Recent: make([]Notice, 0, len(e.recent)), Dropped: e.Dropped()}
	for name, rt := range e.alerts {
		a := AlertStatus{
			Name: name, Condition: rt.def.When.Kind, Summary: rt.def.When.String(),
			Notify: rt.def.Notify.Connection, Cooldown: rt.def.Cooldown.String(),
			Firing: rt.st.Firing, LastNotice: rt.st.LastNotice, LastDetail: rt.st.LastDetail,
		}
		if rt.st.Firing {
			a.Since, a.Occurrences = rt.st.Since, rt.st.Total
		}
		s.Alerts = append(s.Alerts, a)
	}
	slices.SortFunc(s.Alerts, func(a, b AlertStatus) int {
		if a.Firing != b.Firing {
			if a.Firing {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	for i := len(e.recent) - 1; i >= 0; i-- {
		s.Recent = append(s.Recent, *e.recent[i])
	}
	return s
}
