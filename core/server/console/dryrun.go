package console

import (
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// dryRunView is a dry run as the workflow page shows it.
type dryRunView struct {
	Matched bool
	Error   string
	Fields  string
	Tasks   []dryTaskView
}

type dryTaskView struct {
	Name, Uses, Status, Note, Error, Input string
}

// dryRun answers the "Dry run" button: the workflow page again, with the
// fields and each task's rendered input (credentials redacted). No task
// runs and no run is stored, so there is no run page to go to.
func (con *Console) dryRun(c *fiber.Ctx, v *workflowView, name, payload string) error {
	d, err := con.o.Engine.DryRun(c.UserContext(), name, []byte(payload))
	if err != nil {
		v.TestErr = fmt.Sprintf("The dry run could not start: %v.", err)
		return con.render(c, fiber.StatusBadRequest, "workflow", v)
	}
	dv := &dryRunView{Matched: d.Matched, Error: d.Error, Fields: jsonText(d.Fields)}
	for _, t := range d.Tasks {
		dv.Tasks = append(dv.Tasks, dryTaskView{
			Name: t.Name, Uses: t.Uses, Status: t.Status, Note: t.Note, Error: t.Error, Input: prettyJSON(t.Input),
		})
	}
	v.DryRun = dv
	return con.render(c, fiber.StatusOK, "workflow", v)
}
