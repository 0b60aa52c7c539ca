package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/junctionhub/junction/builtin/smtp/smtptest"
)

// alertTarget is a loopback CRM that refuses orders (400, not retried)
// while failing is set.
func alertTarget(t *testing.T, failing *atomic.Bool) string {
	t.Helper()
	return serveLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if failing.Load() {
			http.Error(w, `{"error":"order rejected"}`, http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// noticeSink records the alert notices posted to it, in order, as an
// incoming-webhook receiver (Slack, Teams) would get them.
type noticeSink struct {
	mu      sync.Mutex
	notices []map[string]any
	URL     string
}

func newNoticeSink(t *testing.T) *noticeSink {
	s := &noticeSink{}
	s.URL = serveLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		var n map[string]any
		if err := json.NewDecoder(r.Body).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.notices = append(s.notices, n)
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	return s
}

func (s *noticeSink) got() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]map[string]any(nil), s.notices...)
}

func serveLoopback(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String() + "/"
}

// ordersConnections are the inbound orders hook and the CRM target that the
// alert tests' workflows share.
const ordersConnections = `apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: orders-key}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: crm-out}
spec:
  connector: webhook
  network: {allow_private: true}
  config: {url: "${CRM_URL}"}
---
`

const alertConfig = ordersConnections + `apiVersion: junction/v1
kind: Connection
metadata: {name: ops-hook}
spec:
  connector: webhook
  network: {allow_private: true}
  config: {url: "${OPS_URL}"}
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders}
spec:
  trigger: {connection: orders-in}
  filter: [{path: $.id, op: exists}]
  tasks:
    - {name: send, uses: crm-out.post, with: {body: {order: "{{ .event.payload.id }}"}}}
---
apiVersion: junction/v1
kind: Alert
metadata: {name: crm-failing}
spec:
  when: {runs_failed: {workflow: orders, count: 3, window: 20s}}
  notify: {connection: ops-hook}
  cooldown: 1m
`

// TestAlertWebhookFiringCooldownResolved: three failed runs send exactly
// one notice to the ops webhook; more failures during the cooldown, and a
// restart, send none; once the target recovers and the failures leave the
// window, one resolved notice counts them all.
func TestAlertWebhookFiringCooldownResolved(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	ops := newNoticeSink(t)
	cfg := t.TempDir()
	writeFile(t, filepath.Join(cfg, "alerts.yaml"), alertConfig)
	data := t.TempDir()
	env := map[string]string{"CRM_URL": alertTarget(t, &failing), "OPS_URL": ops.URL}
	h := startHub(t, cfg, data, env, "")
	post := func(n int) {
		t.Helper()
		for i := range n {
			req, _ := http.NewRequest("POST", h.URL+"/hooks/orders-in", strings.NewReader(fmt.Sprintf(`{"id":"o-%d-%d"}`, time.Now().UnixNano(), i)))
			req.Header.Set("X-API-Key", "orders-key")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 202 {
				t.Fatalf("push: %d", resp.StatusCode)
			}
		}
	}
	waitRunsIn := func(h *hubProc, status string, n int) {
		t.Helper()
		waitFor(t, 30*time.Second, fmt.Sprintf("%d %s runs", n, status), func() bool { return len(runsOf(h, "orders", status)) >= n })
	}

	post(3)
	waitRunsIn(h, "failed", 3)
	waitFor(t, 15*time.Second, "the firing notice", func() bool { return len(ops.got()) >= 1 })
	first := ops.got()[0]
	if first["status"] != "firing" || first["kind"] != "firing" || first["alert"] != "crm-failing" || first["occurrences"] != 3.0 ||
		!strings.HasPrefix(first["text"].(string), "[FIRING] crm-failing: at least 3 failed runs of workflow orders in 20s") ||
		!strings.Contains(first["text"].(string), "order rejected") {
		t.Fatalf("firing notice %v", first)
	}
	// A notice counts as sent once the sink's answer is back, just after
	// the sink recorded it.
	firingMetrics := func(m string) bool {
		return strings.Contains(m, `junction_alert_firing{alert="crm-failing"} 1`) &&
			strings.Contains(m, `junction_alert_notifications_total{alert="crm-failing",kind="firing"} 1`)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && !firingMetrics(metricsText(t, h)); {
		time.Sleep(50 * time.Millisecond)
	}
	if m := metricsText(t, h); !firingMetrics(m) {
		t.Errorf("metrics while firing:\n%s", grepLines(m, "junction_alert"))
	}

	// More failures inside the cooldown are grouped, not sent.
	post(3)
	waitRunsIn(h, "failed", 6)
	waitFor(t, 10*time.Second, "the alert to count 6 occurrences", func() bool {
		a, _ := alertsStatus(t, h)
		return a["crm-failing"].Occurrences == 6
	})
	// A restart while firing does not fire again.
	h.Stop()
	h = startHub(t, cfg, data, env, "")
	a, recent := alertsStatus(t, h)
	if st := a["crm-failing"]; !st.Firing || st.Occurrences != 6 || len(recent) != 1 || recent[0].Delivery != "sent" {
		t.Fatalf("after a restart: %+v, recent %+v", st, recent)
	}

	// Recovery: runs complete, the failures leave the window. It is 20 s
	// so that a slow restart above cannot outlast it.
	failing.Store(false)
	post(2)
	waitRunsIn(h, "completed", 2)
	waitFor(t, 60*time.Second, "the resolved notice", func() bool { return len(ops.got()) >= 2 })
	got := ops.got()
	if len(got) != 2 {
		t.Fatalf("%d notices, want firing then resolved: %v", len(got), got)
	}
	res := got[1]
	if res["status"] != "resolved" || res["occurrences"] != 6.0 || !strings.HasPrefix(res["text"].(string), "[RESOLVED] crm-failing:") {
		t.Errorf("resolved notice %v", res)
	}
	// The sink records the notice before it answers, and the hub counts a
	// notice sent once the answer is back: give the hub that moment.
	resolvedMetrics := func(m string) bool {
		return strings.Contains(m, `junction_alert_firing{alert="crm-failing"} 0`) &&
			strings.Contains(m, `junction_alert_notifications_total{alert="crm-failing",kind="resolved"} 1`)
	}
	resolvedAPI := func() bool {
		a, recent := alertsStatus(t, h)
		return !a["crm-failing"].Firing && len(recent) == 2 && recent[0].Kind == "resolved" && recent[0].Delivery == "sent"
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !(resolvedMetrics(metricsText(t, h)) && resolvedAPI()) {
		time.Sleep(50 * time.Millisecond)
	}
	if m := metricsText(t, h); !resolvedMetrics(m) {
		t.Errorf("metrics after resolution:\n%s", grepLines(m, "junction_alert"))
	}
	if a, recent := alertsStatus(t, h); !resolvedAPI() {
		t.Errorf("api after resolution: %+v, recent %+v", a["crm-failing"], recent)
	}
	// Nothing more arrives: no repeat after the resolution.
	time.Sleep(1500 * time.Millisecond)
	if n := len(ops.got()); n != 2 {
		t.Errorf("%d notices in the end, want 2", n)
	}
}

// TestAlertDeadLetterEmail: a run that exhausts its retries alerts by email
// through the loopback SMTP server.
func TestAlertDeadLetterEmail(t *testing.T) {
	mail := smtptest.NewServer(t, smtptest.Options{Username: "alerts", Password: "smtp-pass"})
	down := serveLoopback(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	})
	cfg := t.TempDir()
	writeFile(t, filepath.Join(cfg, "dlq.yaml"), ordersConnections+`apiVersion: junction/v1
kind: Connection
metadata: {name: ops-mail}
spec:
  connector: smtp
  auth: {type: basic, username: alerts, password: "${SMTP_PASSWORD}"}
  config:
    host: 127.0.0.1
    port: ${SMTP_PORT}
    ca_cert: "${SMTP_CA_CERT}"
    from: "Junction <junction@example.com>"
---
apiVersion: junction/v1
kind: Workflow
metadata: {name: orders}
spec:
  trigger: {connection: orders-in}
  filter: [{path: $.id, op: exists}]
  tasks:
    - name: send
      uses: crm-out.post
      with: {body: {order: "{{ .event.payload.id }}"}}
      retry: {max_attempts: 2, initial_interval: 100ms, max_interval: 200ms}
---
apiVersion: junction/v1
kind: Alert
metadata: {name: orders-dead-letters}
spec:
  when: {run_dead_lettered: {workflow: orders}}
  notify: {connection: ops-mail, to: [ops@example.com], subject: "orders dead-lettered"}
`)
	h := startHub(t, cfg, t.TempDir(), map[string]string{
		"CRM_URL": down, "SMTP_PORT": strconv.Itoa(mail.Port), "SMTP_CA_CERT": mail.CAPEM, "SMTP_PASSWORD": "smtp-pass",
	}, "")
	req, _ := http.NewRequest("POST", h.URL+"/hooks/orders-in", strings.NewReader(`{"id":"A-1"}`))
	req.Header.Set("X-API-Key", "orders-key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor(t, 30*time.Second, "the alert email", func() bool { return len(mail.Messages()) >= 1 })
	msgs := mail.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "ops@example.com" {
		t.Fatalf("mail %+v", msgs)
	}
	p, err := smtptest.Parse(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject() != "[FIRING] orders dead-lettered" || !strings.Contains(p.Text, "[FIRING] orders-dead-letters: at least 1 dead-lettered runs of workflow orders in 1h") ||
		!strings.Contains(p.Text, "was dead-lettered: task send:") || !strings.Contains(p.Text, "gave up after 2 attempts") {
		t.Errorf("subject %q text %q", p.Subject(), p.Text)
	}
	if dl := runsOf(h, "orders", "failed"); len(dl) != 1 {
		t.Errorf("%d failed runs, want the one dead letter", len(dl))
	}
}

type alertView struct {
	Name        string `json:"name"`
	Firing      bool   `json:"firing"`
	Occurrences int    `json:"occurrences"`
}

type noticeView struct {
	Alert    string `json:"alert"`
	Kind     string `json:"kind"`
	Delivery string `json:"delivery"`
}

func alertsStatus(t *testing.T, h *hubProc) (map[string]alertView, []noticeView) {
	t.Helper()
	var out struct {
		Alerts []alertView  `json:"alerts"`
		Recent []noticeView `json:"recent"`
	}
	if code := h.api("GET", "/alerts", nil, &out); code != 200 {
		t.Fatalf("GET /alerts: %d", code)
	}
	m := map[string]alertView{}
	for _, a := range out.Alerts {
		m[a.Name] = a
	}
	return m, out.Recent
}

func metricsText(t *testing.T, h *hubProc) string {
	t.Helper()
	resp, err := http.Get(h.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestAlertAuthFailures: pushes with a wrong key, someone guessing, fire
// an auth_failures alert once the count is reached; right keys do not count.
func TestAlertAuthFailures(t *testing.T) {
	ops := newNoticeSink(t)
	cfg := t.TempDir()
	writeFile(t, filepath.Join(cfg, "guess.yaml"), `apiVersion: junction/v1
kind: Connection
metadata: {name: orders-in}
spec:
  connector: webhook
  auth: {type: api_key, secret: orders-key}
---
apiVersion: junction/v1
kind: Connection
metadata: {name: ops-hook}
spec:
  connector: webhook
  network: {allow_private: true}
  config: {url: "${OPS_URL}"}
---
apiVersion: junction/v1
kind: Alert
metadata: {name: key-guessing}
spec:
  when: {auth_failures: {connection: orders-in, count: 5, window: 1m}}
  notify: {connection: ops-hook}
`)
	h := startHub(t, cfg, t.TempDir(), map[string]string{"OPS_URL": ops.URL}, "")
	push := func(key string) int {
		req, _ := http.NewRequest("POST", h.URL+"/hooks/orders-in", strings.NewReader(`{"id":"x"}`))
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 4 {
		if code := push(fmt.Sprintf("guess-%d", i)); code != 401 {
			t.Fatalf("wrong key: %d", code)
		}
	}
	push("orders-key")
	time.Sleep(1500 * time.Millisecond) // a tick or more: four refusals are not enough
	if n := len(ops.got()); n != 0 {
		t.Fatalf("%d notices after 4 refusals, want none", n)
	}
	push("guess-4")
	waitFor(t, 15*time.Second, "the auth_failures notice", func() bool { return len(ops.got()) == 1 })
	n := ops.got()[0]
	if n["alert"] != "key-guessing" || n["occurrences"] != 5.0 || !strings.Contains(n["detail"].(string), "a push to orders-in was refused: unauthorized") {
		t.Errorf("notice %v", n)
	}
}
