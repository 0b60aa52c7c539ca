package console

import (
	"context"
	"strings"
	"testing"
	"time"
)

type fakeAlerts struct{}

func (fakeAlerts) Alerts(context.Context) (AlertsInfo, error) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	return AlertsInfo{
		Alerts: []AlertInfo{
			{Name: "crm-failing", Condition: "runs_failed", Summary: "at least 3 failed runs of workflow orders in 10m0s", Notify: "ops-hook",
				Cooldown: "15m0s", Firing: true, Since: at, Occurrences: 7, LastNotice: at, LastDetail: "run run_1 of orders failed: <b>boom</b>"},
			{Name: "dlq", Condition: "run_dead_lettered", Summary: "dead letters", Notify: "ops-mail", Cooldown: "1h0m0s"},
		},
		Recent: []AlertNotice{
			{Alert: "crm-failing", Kind: "firing", Text: "[FIRING] crm-failing: 3 occurrences", Delivery: "failed", Error: "notify through ops-hook: HTTP 404", At: at},
		},
		Dropped: 1200,
	}, nil
}

func TestAlertsPage(t *testing.T) {
	f := newFixture(t, nil)
	mustContain(t, f.login().get("/alerts").Body, "Alerts are not available yet")

	f = newFixture(t, func(o *Options) { o.Alerts = fakeAlerts{} })
	body := f.login().get("/alerts").Body
	mustContain(t, body, `aria-current="page">Alerts</a>`, "1 firing", "1,200 signals dropped",
		"<strong>crm-failing</strong>", `<span class="badge st-firing">firing</span> since`, "7 occurrences",
		`href="/connections/ops-hook"`, "cooldown 15m0s", "<strong>dlq</strong>", `<span class="badge st-ok">ok</span>`,
		"[FIRING] crm-failing: 3 occurrences", `<span class="badge st-failed">failed</span>`, "HTTP 404",
		"run run_1 of orders failed: &lt;b&gt;boom&lt;/b&gt;")
	if strings.Contains(body, "<b>boom</b>") {
		t.Error("an alert's detail is not escaped")
	}
}
