package connector

import (
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// ForTasks returns the manager as builtin tasks see it (task.Env.Connections).
// It reads the manager at each call, so a connection reopened by Reconfigure
// is the one a task gets.
func (m *Manager) ForTasks() task.Connections { return taskConns{m} }

type taskConns struct{ m *Manager }

func (t taskConns) Connection(name string) (task.Connection, bool) {
	c, ok := t.m.Get(name)
	if !ok {
		return task.Connection{}, false
	}
	return c.forTask(), true
}

func (t taskConns) Connections() []task.Connection {
	all := t.m.All()
	out := make([]task.Connection, len(all))
	for i, c := range all {
		out[i] = c.forTask()
	}
	return out
}

func (c *Conn) forTask() task.Connection {
	tc := task.Connection{Name: c.Name(), Connector: c.Config.Connector, Spec: c.Spec}
	if p, ok := c.Connector.(pluginsdk.Performer); ok {
		tc.Performer = p
	}
	return tc
}
