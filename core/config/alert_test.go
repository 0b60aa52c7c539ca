package config

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// alertBase holds the documents an alert refers to.
const alertBase = `apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec: {connector: webhook, auth: {type: api_key, secret: k}}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: ops-hook}
spec: {connector: webhook, config: {url: "http://127.0.0.1:9/x"}}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: mail}
spec: {connector: smtp, config: {host: 127.0.0.1, from: a@example.com}}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: files}
spec: {connector: sftp, schedule: {every: 1h}}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders}
spec:
  trigger: {connection: orders-in}
  filter: [{path: $.x, op: exists}]
  tasks: [{name: send, uses: ops-hook.post, with: {body: {}}}]
---
`

func loadAlert(t *testing.T, doc string) (*Bundle, error) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "a.yaml")
	writeFile(t, file, alertBase+"apiVersion: junction/v1\nkind: Alert\nmetadata: {name: a}\n"+doc)
	return Load([]string{file}, Options{LookupEnv: lookup})
}

func TestAlertDecode(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want Alert
	}{
		{"count with defaults", "spec:\n  when: {runs_failed: {workflow: orders, count: 3}}\n  notify: {connection: ops-hook}\n",
			Alert{When: AlertCondition{Kind: AlertRunsFailed, Workflow: "orders", Count: 3, MinRuns: 1, Window: 10 * time.Minute}, Notify: AlertNotify{Connection: "ops-hook", Channel: "webhook"}, Cooldown: 15 * time.Minute}},
		{"ratio", "spec:\n  when: {runs_failed: {workflow: orders, ratio: 0.25, min_runs: 20, window: 1h}}\n  notify: {connection: ops-hook}\n  cooldown: 5m\n",
			Alert{When: AlertCondition{Kind: AlertRunsFailed, Workflow: "orders", Ratio: 0.25, MinRuns: 20, Window: time.Hour}, Notify: AlertNotify{Connection: "ops-hook", Channel: "webhook"}, Cooldown: 5 * time.Minute}},
		{"dead letter by email", "spec:\n  when: {run_dead_lettered: {}}\n  notify: {connection: mail, to: ops@example.com, subject: DLQ}\n",
			Alert{When: AlertCondition{Kind: AlertRunDeadLettered, Count: 1, Window: time.Hour}, Notify: AlertNotify{Connection: "mail", Channel: "smtp", To: []string{"ops@example.com"}, Subject: "DLQ"}, Cooldown: 15 * time.Minute}},
		{"fetch failed, no keys", "spec:\n  when: {fetch_failed: }\n  notify: {connection: ops-hook}\n",
			Alert{When: AlertCondition{Kind: AlertFetchFailed}, Notify: AlertNotify{Connection: "ops-hook", Channel: "webhook"}, Cooldown: 15 * time.Minute}},
		{"schedule missed", "spec:\n  when: {schedule_missed: {connection: files, count: 2}}\n  notify: {connection: ops-hook}\n",
			Alert{When: AlertCondition{Kind: AlertScheduleMissed, Connection: "files", Count: 2, Window: time.Hour}, Notify: AlertNotify{Connection: "ops-hook", Channel: "webhook"}, Cooldown: 15 * time.Minute}},
		{"log lag", "spec:\n  when: {log_lag: {above: 10000, for: 5m}}\n  notify: {connection: ops-hook}\n",
			Alert{When: AlertCondition{Kind: AlertLogLag, Above: 10000, For: 5 * time.Minute}, Notify: AlertNotify{Connection: "ops-hook", Channel: "webhook"}, Cooldown: 15 * time.Minute}},
		{"auth failures", "spec:\n  when: {auth_failures: {connection: orders-in, count: 20, window: 5m}}\n  notify: {connection: ops-hook}\n",
			Alert{When: AlertCondition{Kind: AlertAuthFailures, Connection: "orders-in", Count: 20, Window: 5 * time.Minute}, Notify: AlertNotify{Connection: "ops-hook", Channel: "webhook"}, Cooldown: 15 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := loadAlert(t, tt.doc)
			if err != nil {
				t.Fatal(FormatErrors(err))
			}
			got := *b.Alert("a")
			got.Pos, got.Notify.Pos, got.Notify.connPos = Pos{}, Pos{}, Pos{}
			got.When.Pos, got.When.wfPos, got.When.connPos = Pos{}, Pos{}, Pos{}
			tt.want.Name = "a"
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestAlertErrors(t *testing.T) {
	// The Alert's spec starts on line 32.
	tests := []struct{ name, doc, want string }{
		{"no spec", "", "missing spec"},
		{"two conditions", "spec:\n  when: {log_lag: {above: 1, for: 1m}, fetch_failed: {}}\n  notify: {connection: ops-hook}\n",
			"a.yaml:33:9: spec.when: want exactly one condition, got 2 (fetch_failed, log_lag)"},
		{"no condition", "spec:\n  when: {}\n  notify: {connection: ops-hook}\n", "spec.when: want one condition"},
		{"unknown condition", "spec:\n  when: {runs_faild: {}}\n  notify: {connection: ops-hook}\n", `unknown key "runs_faild" (did you mean "runs_failed"?)`},
		{"no threshold", "spec:\n  when: {runs_failed: {workflow: orders}}\n  notify: {connection: ops-hook}\n", "want count, ratio or both"},
		{"no workflow", "spec:\n  when: {runs_failed: {count: 1}}\n  notify: {connection: ops-hook}\n", `spec.when.runs_failed: missing required key "workflow"`},
		{"min_runs without ratio", "spec:\n  when: {runs_failed: {workflow: orders, count: 1, min_runs: 3}}\n  notify: {connection: ops-hook}\n", "min_runs: applies only with ratio"},
		{"ratio out of range", "spec:\n  when: {runs_failed: {workflow: orders, ratio: 1.5}}\n  notify: {connection: ops-hook}\n", "ratio: want a number greater than 0 and at most 1"},
		{"key of another condition", "spec:\n  when: {log_lag: {above: 1, for: 1m, window: 5m}}\n  notify: {connection: ops-hook}\n", `unknown key "window"`},
		{"unknown workflow", "spec:\n  when: {runs_failed: {workflow: ordres, count: 1}}\n  notify: {connection: ops-hook}\n", `a.yaml:33:34: spec.when.runs_failed.workflow: no Workflow named "ordres" (did you mean "orders"?)`},
		{"unknown notify connection", "spec:\n  when: {fetch_failed: {}}\n  notify: {connection: ops}\n", `a.yaml:34:24: spec.notify.connection: no Connection named "ops"`},
		{"not a notifying connector", "spec:\n  when: {fetch_failed: {}}\n  notify: {connection: files}\n", `uses connector "sftp"; alerts notify through a webhook or an smtp connection`},
		{"smtp without to", "spec:\n  when: {fetch_failed: {}}\n  notify: {connection: mail}\n", `spec.notify: missing required key "to"`},
		{"webhook with to", "spec:\n  when: {fetch_failed: {}}\n  notify: {connection: ops-hook, to: a@example.com}\n", "to and subject are for an smtp connection"},
		{"bad address", "spec:\n  when: {fetch_failed: {}}\n  notify: {connection: mail, to: [not-an-address]}\n", `spec.notify.to: "not-an-address" is not an email address`},
		{"schedule of an unscheduled connection", "spec:\n  when: {schedule_missed: {connection: orders-in}}\n  notify: {connection: ops-hook}\n", "connection orders-in has no schedule"},
		{"bad cooldown", "spec:\n  when: {fetch_failed: {}}\n  notify: {connection: ops-hook}\n  cooldown: soon\n", `spec.cooldown: want duration`},
		{"lag without for", "spec:\n  when: {log_lag: {above: 5}}\n  notify: {connection: ops-hook}\n", `spec.when.log_lag: missing required key "for"`},
		{"auth failures without count", "spec:\n  when: {auth_failures: {}}\n  notify: {connection: ops-hook}\n", `spec.when.auth_failures: missing required key "count"`},
		{"both scopes", "spec:\n  when: {schedule_missed: {connection: files, workflow: orders}}\n  notify: {connection: ops-hook}\n", "give workflow or connection, not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadAlert(t, tt.doc)
			if err == nil {
				t.Fatalf("loaded; want error %q", tt.want)
			}
			if msg := FormatErrors(err); !strings.Contains(msg, tt.want) {
				t.Errorf("errors:\n%s\nwant %q", msg, tt.want)
			}
		})
	}
}

func TestAlertConditionString(t *testing.T) {
	tests := []struct {
		c    AlertCondition
		want string
	}{
		{AlertCondition{Kind: AlertRunsFailed, Workflow: "orders", Count: 3, Window: 8 * time.Second}, "at least 3 failed runs of workflow orders in 8s"},
		{AlertCondition{Kind: AlertRunsFailed, Workflow: "orders", Ratio: 0.2, MinRuns: 10, Window: 15 * time.Minute}, "at least 20% failed runs of workflow orders in 15m (of at least 10 runs)"},
		{AlertCondition{Kind: AlertRunsFailed, Workflow: "orders", Count: 5, Ratio: 0.5, MinRuns: 1, Window: 90 * time.Minute}, "at least 5 and 50% failed runs of workflow orders in 1h30m (of at least 1 runs)"},
		{AlertCondition{Kind: AlertRunDeadLettered, Count: 1, Window: time.Hour}, "at least 1 dead-lettered runs of any workflow in 1h"},
		{AlertCondition{Kind: AlertFetchFailed, Connection: "sftp"}, "the last fetch job of connection sftp failed"},
		{AlertCondition{Kind: AlertScheduleMissed, Workflow: "nightly", Count: 2, Window: 24 * time.Hour}, "at least 2 missed schedule slots of workflow nightly in 24h"},
		{AlertCondition{Kind: AlertLogLag, Above: 1000, For: 5 * time.Minute}, "log lag above 1000 events for 5m"},
		{AlertCondition{Kind: AlertAuthFailures, Count: 20, Window: 10 * time.Minute}, "at least 20 pushes to any connection refused for bad credentials in 10m"},
	}
	for _, tt := range tests {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.c.Kind, got, tt.want)
		}
	}
}
