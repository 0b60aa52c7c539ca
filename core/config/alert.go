package config

import (
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Alert watches one condition and notifies through a connection when it
// starts to hold, while it goes on holding (at most once per cooldown), and
// when it clears (kind: Alert).
//
//	spec:
//	  when:                          # exactly one condition
//	    runs_failed: {workflow: W, window: 10m, count: 5, ratio: 0.5, min_runs: 10}
//	  notify: {connection: ops-slack}                  # a webhook connection
//	  notify: {connection: mail, to: [ops@example.com], subject: "..."}   # smtp
//	  cooldown: 15m
type Alert struct {
	Name     string
	When     AlertCondition
	Notify   AlertNotify
	Cooldown time.Duration
	Pos      Pos
}

// The conditions an alert may watch.
const (
	// AlertRunsFailed: failed runs of a workflow over a window, by count
	// and/or ratio.
	AlertRunsFailed = "runs_failed"
	// AlertRunDeadLettered: runs dead-lettered (retries exhausted) over a
	// window.
	AlertRunDeadLettered = "run_dead_lettered"
	// AlertFetchFailed: the last fetch job of a connection failed; it clears
	// when the connection's next job completes.
	AlertFetchFailed = "fetch_failed"
	// AlertScheduleMissed: schedule slots missed (Junction was down at the
	// slot, or the previous run outlasted it) over a window.
	AlertScheduleMissed = "schedule_missed"
	// AlertLogLag: the dispatcher's log lag above a number of events for a
	// while.
	AlertLogLag = "log_lag"
	// AlertAuthFailures: pushes refused for bad credentials over a window:
	// someone is guessing, or a sender's key is out of date.
	AlertAuthFailures = "auth_failures"
)

// AlertConditions are the keys of an alert's `when:` block.
var AlertConditions = []string{AlertAuthFailures, AlertFetchFailed, AlertLogLag, AlertRunDeadLettered, AlertRunsFailed, AlertScheduleMissed}

// DefaultAlertCooldown is the least time between two notices that an alert
// is firing.
const DefaultAlertCooldown = 15 * time.Minute

// Default windows of the windowed conditions.
const (
	DefaultAlertWindow     = 10 * time.Minute
	DefaultAlertLongWindow = time.Hour
)

// AlertCondition is an alert's `when:` block. Kind says which condition;
// the other fields are the ones that condition takes (zero: not set).
type AlertCondition struct {
	Kind string
	// Workflow limits runs_failed (required), run_dead_lettered and
	// schedule_missed to one workflow.
	Workflow string
	// Connection limits fetch_failed, schedule_missed and auth_failures to
	// one connection.
	Connection string
	// Window is how far back occurrences count.
	Window time.Duration
	// Count is the least number of occurrences in Window (default 1 where
	// the condition has no ratio).
	Count int
	// Ratio (runs_failed) is the least share of failed runs among the
	// finished runs in Window, counted once MinRuns runs finished.
	Ratio   float64
	MinRuns int
	// Above and For (log_lag): the lag must stay above Above events for For.
	Above int64
	For   time.Duration
	Pos   Pos
	// wfPos and connPos locate the names checked against the other kinds.
	wfPos, connPos Pos
}

// AlertNotify is where an alert's notices go: a webhook connection (its
// `post` action, a JSON body with `text`) or an smtp connection (its
// `send_email` action, to To with Subject).
type AlertNotify struct {
	Connection string
	// Channel is "webhook" or "smtp": how the connection's connector
	// notifies (set by Load from the connection).
	Channel string
	To      []string
	Subject string
	Pos     Pos
	// connPos locates the connection's name, checked against the Connections.
	connPos Pos
}

func (d *decoder) alert(spec *yaml.Node) *Alert {
	a := &Alert{Cooldown: DefaultAlertCooldown}
	if spec == nil {
		return a
	}
	o := d.object(spec, "spec", "when", "notify", "cooldown")
	if o == nil {
		return a
	}
	if d.require(o, "when") {
		a.When = d.alertCondition(o.get("when"), o.sub("when"))
	}
	if d.require(o, "notify") {
		a.Notify = d.alertNotify(o.get("notify"), o.sub("notify"))
	}
	if v := o.get("cooldown"); v != nil {
		if c, ok := d.duration(v, o.sub("cooldown")); ok {
			a.Cooldown = c
		}
	}
	return a
}

// alertKeys are the keys each condition takes.
var alertKeys = map[string][]string{
	AlertRunsFailed:      {"workflow", "window", "count", "ratio", "min_runs"},
	AlertRunDeadLettered: {"workflow", "window", "count"},
	AlertFetchFailed:     {"connection"},
	AlertScheduleMissed:  {"workflow", "connection", "window", "count"},
	AlertLogLag:          {"above", "for"},
	AlertAuthFailures:    {"connection", "window", "count"},
}

func (d *decoder) alertCondition(n *yaml.Node, path string) AlertCondition {
	c := AlertCondition{Pos: d.pos(deref(n))}
	o := d.object(n, path, AlertConditions...)
	if o == nil {
		return c
	}
	if len(o.vals) != 1 {
		if len(o.vals) > 1 {
			d.errorf(o.node, path, "want exactly one condition, got %d (%s); write one Alert per condition", len(o.vals), strings.Join(sortedKeys(o.vals), ", "))
		} else {
			d.errorf(o.node, path, "want one condition: %s", strings.Join(AlertConditions, ", "))
		}
		return c
	}
	for kind, v := range o.vals {
		c.Kind = kind
		d.conditionSpec(&c, v, o.sub(kind))
	}
	return c
}

func sortedKeys(m map[string]*yaml.Node) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// conditionSpec reads the keys of one condition and applies its defaults.
func (d *decoder) conditionSpec(c *AlertCondition, n *yaml.Node, path string) {
	if deref(n).ShortTag() == "!!null" {
		// `fetch_failed:` with nothing after it: every connection.
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	o := d.object(n, path, alertKeys[c.Kind]...)
	if o == nil {
		return
	}
	if v := o.get("workflow"); v != nil {
		c.Workflow, _ = d.str(v, o.sub("workflow"))
		c.wfPos = d.pos(deref(v))
	}
	if v := o.get("connection"); v != nil {
		c.Connection, _ = d.str(v, o.sub("connection"))
		c.connPos = d.pos(deref(v))
	}
	if c.Workflow != "" && c.Connection != "" {
		d.errorf(o.node, path, "give workflow or connection, not both")
	}
	if v := o.get("window"); v != nil {
		c.Window, _ = d.duration(v, o.sub("window"))
	}
	if v := o.get("count"); v != nil {
		c.Count, _ = d.positiveInt(v, o.sub("count"))
	}
	if v := o.get("min_runs"); v != nil {
		c.MinRuns, _ = d.positiveInt(v, o.sub("min_runs"))
	}
	if v := o.get("ratio"); v != nil {
		c.Ratio = d.ratio(v, o.sub("ratio"))
	}
	if v := o.get("above"); v != nil {
		if i, ok := d.integer(v, o.sub("above")); ok {
			if i < 0 {
				d.errorf(deref(v), o.sub("above"), "want a number of events of at least 0, got %d", i)
			}
			c.Above = i
		}
	}
	if v := o.get("for"); v != nil {
		c.For, _ = d.duration(v, o.sub("for"))
	}
	switch c.Kind {
	case AlertRunsFailed:
		d.require(o, "workflow")
		if o.get("count") == nil && o.get("ratio") == nil {
			d.errorf(o.node, path, "want count, ratio or both (such as count: 5, or ratio: 0.2 with min_runs: 20)")
		}
		if o.get("min_runs") != nil && o.get("ratio") == nil {
			d.errorf(o.keys["min_runs"], o.sub("min_runs"), "applies only with ratio")
		}
		if c.MinRuns == 0 {
			c.MinRuns = 1
		}
		if c.Window == 0 {
			c.Window = DefaultAlertWindow
		}
	case AlertRunDeadLettered, AlertScheduleMissed:
		if c.Window == 0 {
			c.Window = DefaultAlertLongWindow
		}
	case AlertAuthFailures:
		d.require(o, "count")
		if c.Window == 0 {
			c.Window = DefaultAlertWindow
		}
	case AlertLogLag:
		d.require(o, "above")
		d.require(o, "for")
	}
	if c.Count == 0 && c.Ratio == 0 && c.Kind != AlertLogLag && c.Kind != AlertFetchFailed {
		c.Count = 1
	}
}

// ratio reads a number greater than 0 and at most 1.
func (d *decoder) ratio(n *yaml.Node, path string) float64 {
	v := d.typed(n)
	var r float64
	if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || v.Decode(&r) != nil {
		d.errorf(v, path, "want a number between 0 and 1, got %s", kindName(v))
		return 0
	}
	if r <= 0 || r > 1 {
		d.errorf(v, path, "want a number greater than 0 and at most 1 (0.2 is 20%%), got %v", r)
		return 0
	}
	return r
}

func (d *decoder) alertNotify(n *yaml.Node, path string) AlertNotify {
	nt := AlertNotify{Pos: d.pos(deref(n))}
	o := d.object(n, path, "connection", "to", "subject")
	if o == nil {
		return nt
	}
	if d.require(o, "connection") {
		nt.connPos = d.pos(deref(o.get("connection")))
		nt.Connection, _ = d.str(o.get("connection"), o.sub("connection"))
	}
	if v := o.get("to"); v != nil {
		if deref(v).Kind == yaml.ScalarNode {
			if s, ok := d.str(v, o.sub("to")); ok {
				nt.To = []string{s}
			}
		} else {
			nt.To, _ = d.strList(v, o.sub("to"))
		}
		if deref(v).Kind == yaml.SequenceNode && len(nt.To) == 0 {
			d.errorf(deref(v), o.sub("to"), "want at least one address")
		}
		for i, addr := range nt.To {
			if _, err := mail.ParseAddress(addr); err != nil {
				at := deref(v)
				if at.Kind == yaml.SequenceNode {
					at = deref(at.Content[i])
				}
				d.errorf(at, o.sub("to"), "%q is not an email address", addr)
			}
		}
	}
	if v := o.get("subject"); v != nil {
		nt.Subject, _ = d.str(v, o.sub("subject"))
	}
	return nt
}

// Alert returns the alert with the name, or nil.
func (b *Bundle) Alert(name string) *Alert {
	for _, a := range b.Alerts {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// checkAlert checks what an alert names against the other documents: the
// workflow and connection its condition watches, and the connection it
// notifies through (a webhook or an smtp connection).
func (l *loader) checkAlert(a *Alert) {
	c := a.When
	if c.Workflow != "" && l.b.Workflow(c.Workflow) == nil {
		names := make([]string, len(l.b.Workflows))
		for i, w := range l.b.Workflows {
			names[i] = w.Name
		}
		l.errorAt(c.wfPos, "spec.when.%s.workflow: no Workflow named %q%s", c.Kind, c.Workflow, didYouMean(c.Workflow, names))
	}
	if c.Connection != "" && l.b.Connection(c.Connection) == nil {
		l.errorAt(c.connPos, "spec.when.%s.connection: no Connection named %q%s", c.Kind, c.Connection, didYouMean(c.Connection, l.connectionNames()))
	}
	if c.Kind == AlertScheduleMissed {
		if w := l.b.Workflow(c.Workflow); w != nil && w.Trigger.Schedule == nil {
			l.errorAt(c.wfPos, "spec.when.%s.workflow: workflow %s has no schedule trigger", c.Kind, c.Workflow)
		}
		if cn := l.b.Connection(c.Connection); cn != nil && cn.Schedule == nil {
			l.errorAt(c.connPos, "spec.when.%s.connection: connection %s has no schedule", c.Kind, c.Connection)
		}
	}
	n := a.Notify
	if n.Connection == "" {
		return
	}
	conn := l.b.Connection(n.Connection)
	if conn == nil {
		l.errorAt(n.connPos, "spec.notify.connection: no Connection named %q%s", n.Connection, didYouMean(n.Connection, l.connectionNames()))
		return
	}
	a.Notify.Channel = AlertChannel(conn.Connector)
	switch a.Notify.Channel {
	case "webhook":
		if len(n.To) > 0 || n.Subject != "" {
			l.errorAt(n.Pos, "spec.notify: to and subject are for an smtp connection; %s is a webhook connection, which posts JSON with a text field", n.Connection)
		}
	case "smtp":
		if len(n.To) == 0 {
			l.errorAt(n.Pos, "spec.notify: missing required key \"to\": connection %s sends email", n.Connection)
		}
	default:
		l.errorAt(n.connPos, "spec.notify.connection: connection %s uses connector %q; alerts notify through a webhook or an smtp connection", n.Connection, conn.Connector)
	}
}

// AlertChannel is how an alert notifies through a connection of connector:
// "webhook", "smtp", or "" when it cannot.
func AlertChannel(connector string) string {
	name, _, _ := strings.Cut(connector, "@")
	switch name {
	case "webhook", "smtp":
		return name
	}
	return ""
}

// String describes the condition in words, for notices and the console.
func (c AlertCondition) String() string {
	scope := func(def string) string {
		switch {
		case c.Workflow != "":
			return "workflow " + c.Workflow
		case c.Connection != "":
			return "connection " + c.Connection
		}
		return def
	}
	switch c.Kind {
	case AlertRunsFailed:
		var parts []string
		if c.Count > 0 {
			parts = append(parts, fmt.Sprint(c.Count))
		}
		if c.Ratio > 0 {
			parts = append(parts, fmt.Sprintf("%g%%", c.Ratio*100))
		}
		s := fmt.Sprintf("at least %s failed runs of %s in %s", strings.Join(parts, " and "), scope(""), shortDuration(c.Window))
		if c.Ratio > 0 {
			s += fmt.Sprintf(" (of at least %d runs)", c.MinRuns)
		}
		return s
	case AlertRunDeadLettered:
		return fmt.Sprintf("at least %d dead-lettered runs of %s in %s", c.Count, scope("any workflow"), shortDuration(c.Window))
	case AlertFetchFailed:
		return fmt.Sprintf("the last fetch job of %s failed", scope("a connection"))
	case AlertScheduleMissed:
		return fmt.Sprintf("at least %d missed schedule slots of %s in %s", c.Count, scope("any schedule"), shortDuration(c.Window))
	case AlertLogLag:
		return fmt.Sprintf("log lag above %d events for %s", c.Above, shortDuration(c.For))
	case AlertAuthFailures:
		return fmt.Sprintf("at least %d pushes to %s refused for bad credentials in %s", c.Count, scope("any connection"), shortDuration(c.Window))
	}
	return c.Kind
}

// shortDuration writes 1h rather than 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
