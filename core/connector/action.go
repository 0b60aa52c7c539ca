package connector

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// Action returns the executor of a connection's action: a workflow task's
// `uses: <connection>.<action>`, and what an alert notifies through. The
// connection is looked up at every call, so a reconnected connection's
// new credentials are used at once.
func (m *Manager) Action(name, action string) (task.Executor, error) {
	c, ok := m.Get(name)
	if !ok {
		return nil, fmt.Errorf("no connection %q", name)
	}
	if _, ok := c.Connector.(pluginsdk.Performer); !ok || !c.Spec.HasRole(pluginsdk.RolePerform) {
		return nil, fmt.Errorf("connector %s of connection %s performs no actions", c.Spec.Name, name)
	}
	if _, ok := c.Spec.Action(action); !ok {
		return nil, fmt.Errorf("connector %s has no action %q (it has: %s)", c.Spec.Name, action, actionNames(c.Spec))
	}
	return task.ExecutorFunc(func(ctx context.Context, call *task.Call) (json.RawMessage, error) {
		c, ok := m.Get(name)
		if !ok {
			return nil, &pluginsdk.Error{Code: "unknown_connection", Message: fmt.Sprintf("connection %s is no longer configured", name)}
		}
		p, ok := c.Connector.(pluginsdk.Performer)
		if !ok {
			return nil, &pluginsdk.Error{Code: "not_performer", Message: fmt.Sprintf("connection %s performs no actions", name)}
		}
		res, err := p.Perform(ctx, &pluginsdk.PerformRequest{
			Action: action, Input: call.Input, IdempotencyKey: call.IdempotencyKey, Attempt: call.Attempt,
		})
		if err != nil {
			return nil, err
		}
		if res == nil {
			return nil, nil
		}
		return res.Output, nil
	}), nil
}
