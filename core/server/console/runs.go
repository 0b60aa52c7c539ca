package console

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/junctionhub/junction/core/store"
)

// runStatuses are the statuses the runs filter offers.
var runStatuses = []string{store.StatusQueued, store.StatusRunning, store.StatusRetrying, store.StatusCompleted, store.StatusFailed, store.StatusSkipped}

// sinceChoices are the time filter's presets (value, label).
var sinceChoices = [][2]string{{"15m", "last 15 minutes"}, {"1h", "last hour"}, {"24h", "last 24 hours"}, {"168h", "last 7 days"}, {"720h", "last 30 days"}}

type runsView struct {
	base
	Workflows []string
	Statuses  []string
	Since     [][2]string
	// The filter as given.
	Workflow, Status, SinceValue string
	DeadLetter                   bool
	Runs                         []*store.Run
	Next                         string
	Counts                       []statusCount
	Error                        string
}

type statusCount struct {
	Status string
	Count  int
}

func (con *Console) runsPage(c *fiber.Ctx) error {
	v := &runsView{
		Workflow: c.Query("workflow"), Status: c.Query("status"), SinceValue: c.Query("since"),
		DeadLetter: c.Query("dead") == "1", Statuses: runStatuses, Since: sinceChoices,
	}
	v.Title, v.Section = "Runs", "runs"
	for _, wf := range con.bundle().Workflows {
		v.Workflows = append(v.Workflows, wf.Name)
	}
	f := store.RunFilter{Workflow: v.Workflow, Status: v.Status, DeadLetter: v.DeadLetter, After: c.Query("after"), Limit: 50}
	status := fiber.StatusOK
	if v.Status != "" && !contains(runStatuses, v.Status) {
		v.Error = fmt.Sprintf("unknown status %q", v.Status)
		status = fiber.StatusBadRequest
	}
	if v.SinceValue != "" {
		t, err := parseSince(v.SinceValue, con.o.Now())
		if err != nil {
			v.Error = err.Error()
			status = fiber.StatusBadRequest
		}
		f.Since = t
		if !presetSince(v.SinceValue) {
			v.Since = append(append([][2]string(nil), sinceChoices...), [2]string{v.SinceValue, "since " + v.SinceValue})
		}
	}
	if status == fiber.StatusOK {
		runs, next, err := con.o.Store.Runs().List(c.UserContext(), f)
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		v.Runs, v.Next = runs, next
	}
	counts, err := con.o.Store.Runs().Counts(c.UserContext())
	if err != nil {
		return fmt.Errorf("count runs: %w", err)
	}
	for _, s := range runStatuses {
		if n := counts[s]; n > 0 {
			v.Counts = append(v.Counts, statusCount{Status: s, Count: n})
		}
	}
	return con.render(c, status, "runs", v)
}

func presetSince(v string) bool {
	for _, p := range sinceChoices {
		if p[0] == v {
			return true
		}
	}
	return false
}

// parseSince accepts a duration back from now ("24h") or an RFC 3339 time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("time filter %q: want a duration such as 24h or a time such as 2026-01-02T15:04:05Z", v)
}

type runView struct {
	base
	Run       *store.Run
	Input     string
	Fields    []fieldValue
	Tasks     []taskView
	CanReplay bool
	// Duration is from creation to finish (or now, while unfinished).
	Duration time.Duration
}

type taskView struct {
	store.TaskRun
	InputJSON, OutputJSON string
}

type fieldValue struct {
	Name  string
	Value string
}

func (con *Console) runPage(c *fiber.Ctx) error {
	r, err := con.o.Store.Runs().Get(c.UserContext(), c.Params("id"))
	if isNotFound(err) {
		return con.notFound(c, fmt.Sprintf("There is no run %q.", c.Params("id")))
	}
	if err != nil {
		return fmt.Errorf("get run: %w", err)
	}
	v := &runView{Run: r, Input: prettyJSON(r.Input)}
	v.Title, v.Section = "Run "+r.ID, "runs"
	for _, t := range r.Tasks {
		v.Tasks = append(v.Tasks, taskView{TaskRun: t, InputJSON: prettyJSON(t.Input), OutputJSON: prettyJSON(t.Output)})
	}
	names := make([]string, 0, len(r.Fields))
	for k := range r.Fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		b, _ := json.Marshal(r.Fields[k])
		v.Fields = append(v.Fields, fieldValue{Name: k, Value: string(b)})
	}
	_, known := con.o.Engine.Workflow(r.Workflow)
	v.CanReplay = known && (r.Status == store.StatusFailed || r.DeadLetter)
	end := r.FinishedAt
	if end.IsZero() {
		end = con.o.Now()
	}
	v.Duration = end.Sub(r.CreatedAt)
	return con.render(c, fiber.StatusOK, "run", v)
}

// replay starts a new run on the input of a failed or dead-lettered run and
// shows it.
func (con *Console) replay(c *fiber.Ctx) error {
	id := c.Params("id")
	s := sessionOf(c)
	r, err := con.o.Engine.Replay(c.UserContext(), id)
	if isNotFound(err) {
		return con.notFound(c, fmt.Sprintf("There is no run %q.", id))
	}
	if err != nil {
		s.setFlash("error", "Replay failed: %v", err)
		return c.Redirect("/runs/"+id, fiber.StatusSeeOther)
	}
	s.setFlash("notice", "Replaying run %s as %s.", id, r.ID)
	return c.Redirect("/runs/"+r.ID, fiber.StatusSeeOther)
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
