package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/event"
	"github.com/junctionhub/junction/core/mapping"
	"github.com/junctionhub/junction/core/store"
)

// recentWindow and recentCap bound the per-workflow counts on the list:
// counting a workflow's whole history would read every run it ever had.
const (
	recentWindow = 24 * time.Hour
	recentCap    = 500
)

type workflowsView struct {
	base
	Workflows []workflowRow
}

type workflowRow struct {
	Name, Description string
	Trigger           string
	TriggerConn       string
	Tasks             int
	Last              *store.Run
	Recent            []statusCount
	RecentTotal       int
	RecentMore        bool
}

func (con *Console) workflowsPage(c *fiber.Ctx) error {
	v := &workflowsView{}
	v.Title, v.Section = "Workflows", "workflows"
	ctx := c.UserContext()
	since := con.o.Now().Add(-recentWindow)
	for _, wf := range con.bundle().Workflows {
		row := workflowRow{Name: wf.Name, Description: wf.Description, Trigger: triggerText(wf.Trigger), TriggerConn: wf.Trigger.Connection, Tasks: len(wf.Tasks)}
		last, _, err := con.o.Store.Runs().List(ctx, store.RunFilter{Workflow: wf.Name, Limit: 1})
		if err != nil {
			return fmt.Errorf("last run of %s: %w", wf.Name, err)
		}
		if len(last) > 0 {
			row.Last = last[0]
		}
		recent, next, err := con.o.Store.Runs().List(ctx, store.RunFilter{Workflow: wf.Name, Since: since, Limit: recentCap})
		if err != nil {
			return fmt.Errorf("recent runs of %s: %w", wf.Name, err)
		}
		by := map[string]int{}
		for _, r := range recent {
			by[r.Status]++
		}
		for _, s := range runStatuses {
			if by[s] > 0 {
				row.Recent = append(row.Recent, statusCount{Status: s, Count: by[s]})
			}
		}
		row.RecentTotal, row.RecentMore = len(recent), next != ""
		v.Workflows = append(v.Workflows, row)
	}
	return con.render(c, fiber.StatusOK, "workflows", v)
}

func triggerText(t config.Trigger) string {
	switch {
	case t.Connection != "":
		return "events of " + t.Connection
	case t.Schedule != nil:
		return scheduleText(t.Schedule)
	}
	return "—"
}

func scheduleText(s *config.Schedule) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	if s.Cron != "" {
		b.WriteString("cron " + s.Cron)
	} else {
		b.WriteString("every " + s.Every.String())
		if s.Start != "" {
			b.WriteString(" from " + s.Start)
		}
	}
	if s.Timezone != "" {
		b.WriteString(" (" + s.Timezone + ")")
	}
	return b.String()
}

type workflowView struct {
	base
	WF       *config.Workflow
	Trigger  string
	Filter   []conditionRow
	Fields   []fieldRow
	Tasks    []taskRow
	YAML     string
	Recent   []*store.Run
	Payload  string
	TestErr  string
	Capture  *captureView
	WaitText string
	// DryRun is the answer of "Dry run": what the tasks would receive.
	DryRun *dryRunView
}

type conditionRow struct{ Path, Op, Value string }

type fieldRow struct {
	Name, Path, Type, Default string
	Required                  bool
}

type taskRow struct {
	Name, Uses, Retry, Timeout, If, With string
}

type captureView struct {
	Connection string
	Event      *event.Event
	Payload    string
	Fields     []mapping.InferredField
	FieldsYAML string
	InferError string
	TimedOut   bool
}

func (con *Console) workflowPage(c *fiber.Ctx) error {
	v, ok, err := con.workflowView(c, c.Params("name"))
	if err != nil || !ok {
		return err
	}
	return con.render(c, fiber.StatusOK, "workflow", v)
}

// workflowView builds a workflow's page; ok is false when the workflow does
// not exist (the 404 page is then already written).
func (con *Console) workflowView(c *fiber.Ctx, name string) (*workflowView, bool, error) {
	wf := con.bundle().Workflow(name)
	if wf == nil {
		return nil, false, con.notFound(c, fmt.Sprintf("There is no workflow %q.", name))
	}
	v := &workflowView{WF: wf, Trigger: triggerText(wf.Trigger), YAML: string(wf.YAML), WaitText: fmtDuration(con.o.CaptureTimeout)}
	v.Title, v.Section = "Workflow "+wf.Name, "workflows"
	for _, f := range wf.Filter {
		b, _ := json.Marshal(f.Value)
		if f.Op == "exists" && f.Value == nil {
			b = nil
		}
		v.Filter = append(v.Filter, conditionRow{Path: f.Path, Op: f.Op, Value: string(b)})
	}
	names := make([]string, 0, len(wf.Fields))
	for n := range wf.Fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		f := wf.Fields[n]
		row := fieldRow{Name: n, Path: f.Path, Type: f.Type, Required: f.Required}
		if f.Default != nil {
			b, _ := json.Marshal(f.Default)
			row.Default = string(b)
		}
		v.Fields = append(v.Fields, row)
	}
	for _, t := range wf.Tasks {
		row := taskRow{Name: t.Name, Uses: t.Uses, If: t.If}
		if r := t.Retry; r != nil {
			row.Retry = "1 attempt (no retry)"
			if r.MaxAttempts > 1 {
				row.Retry = fmt.Sprintf("%d attempts, waiting %s to %s between them", r.MaxAttempts, fmtDuration(r.InitialInterval), fmtDuration(r.MaxInterval))
			}
		}
		if t.Timeout > 0 {
			row.Timeout = t.Timeout.String()
		}
		if len(t.With) > 0 {
			row.With = jsonText(t.With)
		}
		v.Tasks = append(v.Tasks, row)
	}
	recent, _, err := con.o.Store.Runs().List(c.UserContext(), store.RunFilter{Workflow: name, Limit: 10})
	if err != nil {
		return nil, false, fmt.Errorf("recent runs of %s: %w", name, err)
	}
	v.Recent = recent
	return v, true, nil
}

// testData is "run test data": the pasted payload runs through the workflow
// once (as a test run) and the browser is sent to the run. The form's
// second button (mode=dry-run) renders the tasks instead, running none
// (dryrun.go).
func (con *Console) testData(c *fiber.Ctx) error {
	name := c.Params("name")
	payload := strings.TrimSpace(c.FormValue("payload"))
	v, ok, err := con.workflowView(c, name)
	if err != nil || !ok {
		return err
	}
	v.Payload = payload
	if payload == "" {
		v.TestErr = "Paste a JSON payload to run the workflow on."
		return con.render(c, fiber.StatusBadRequest, "workflow", v)
	}
	if !json.Valid([]byte(payload)) {
		var x any
		err := json.Unmarshal([]byte(payload), &x)
		v.TestErr = fmt.Sprintf("The payload is not valid JSON: %v.", err)
		return con.render(c, fiber.StatusBadRequest, "workflow", v)
	}
	if c.FormValue("mode") == "dry-run" {
		return con.dryRun(c, v, name, payload)
	}
	r, err := con.o.Engine.RunOnce(c.UserContext(), name, []byte(payload))
	if err != nil {
		v.TestErr = fmt.Sprintf("The test run could not start: %v.", err)
		return con.render(c, fiber.StatusBadRequest, "workflow", v)
	}
	sessionOf(c).setFlash("notice", "Test run finished with status %s.", r.Status)
	return c.Redirect("/runs/"+r.ID, fiber.StatusSeeOther)
}

// capture waits for the next event on the workflow's trigger connection
// and shows it with the fields inferred from it. The request blocks until
// the event arrives, CaptureTimeout passes, or the console closes.
func (con *Console) capture(c *fiber.Ctx) error {
	v, ok, err := con.workflowView(c, c.Params("name"))
	if err != nil || !ok {
		return err
	}
	conn := v.WF.Trigger.Connection
	if conn == "" {
		v.TestErr = "This workflow is started by a schedule, not by a connection's events: there is nothing to capture."
		return con.render(c, fiber.StatusBadRequest, "workflow", v)
	}
	cv := &captureView{Connection: conn}
	v.Capture = cv
	ev, err := con.nextEvent(c.UserContext(), conn)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		cv.TimedOut = true
		return con.render(c, fiber.StatusOK, "workflow", v)
	case errors.Is(err, errClosing):
		v.Flash = &flash{Kind: "error", Text: "The hub is shutting down; capture again when it is back."}
		return con.render(c, fiber.StatusServiceUnavailable, "workflow", v)
	case err != nil:
		return err
	}
	cv.Event = ev
	cv.Payload = prettyJSON(ev.Payload)
	v.Payload = cv.Payload
	fields, err := mapping.Infer(ev.Payload)
	if err != nil {
		cv.InferError = err.Error()
	} else {
		cv.Fields = fields
		cv.FieldsYAML = mapping.FormatFields(fields)
	}
	return con.render(c, fiber.StatusOK, "workflow", v)
}

var errClosing = errors.New("console closing")

// capturePoll is how often a capture looks at the log's newest sequence.
// The log's Notify channel is not used: it is shared, each signal wakes one
// reader, and a waiting capture would take wake-ups from the dispatcher.
// LastSeq is one atomic load, so polling it costs nothing measurable.
const capturePoll = 100 * time.Millisecond

// nextEvent returns the first event of connection appended to the log after
// the call began.
func (con *Console) nextEvent(ctx context.Context, connection string) (*event.Event, error) {
	log := con.o.Store.Log()
	after := log.LastSeq()
	wait, cancel := context.WithTimeout(con.closing, con.o.CaptureTimeout)
	defer cancel()
	tick := time.NewTicker(capturePoll)
	defer tick.Stop()
	for {
		for log.LastSeq() > after {
			evs, err := log.Read(ctx, after, 256)
			if err != nil {
				return nil, fmt.Errorf("read log after %d: %w", after, err)
			}
			if len(evs) == 0 {
				break
			}
			for i := range evs {
				after = evs[i].Seq
				if evs[i].Connection == connection {
					return &evs[i], nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-wait.Done():
			if con.closing.Err() != nil {
				return nil, errClosing
			}
			return nil, context.DeadlineExceeded
		case <-tick.C:
		}
	}
}
