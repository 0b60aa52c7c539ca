package task

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/event"
)

// nopLog is an event log with nothing in it.
type nopLog struct{}

func (nopLog) Get(context.Context, string) (event.Event, error)         { return event.Event{}, nil }
func (nopLog) Read(context.Context, uint64, int) ([]event.Event, error) { return nil, nil }
func (nopLog) LastSeq() uint64                                          { return 0 }

// TestNeedsCheckedBeforeNew: a registered task is built only from an Env
// that has every service it lists, and the error names the task and each
// missing service.
func TestNeedsCheckedBeforeNew(t *testing.T) {
	built := 0
	Register(Def{ID: "test.needs", Needs: []Service{NeedEvents, NeedConnections},
		New: func(env *Env) (Executor, error) {
			built++
			return ExecutorFunc(func(context.Context, *Call) (json.RawMessage, error) { return nil, nil }), nil
		}})
	d, ok := Lookup("test.needs")
	if !ok {
		t.Fatal("test.needs is not registered")
	}
	tests := []struct {
		name string
		env  *Env
		want string // the error; "" builds the task
	}{
		{"nil env", nil, "task test.needs needs task.Env.Events (the store's event log) and task.Env.Connections (the hub's connections), which the hub did not provide"},
		{"one missing", &Env{Events: nopLog{}}, "task test.needs needs task.Env.Connections (the hub's connections), which the hub did not provide"},
		{"all there", &Env{Events: nopLog{}, Connections: fakeConns{}}, ""},
	}
	for _, tt := range tests {
		before := built
		ex, err := d.New(tt.env)
		switch {
		case tt.want == "" && (err != nil || ex == nil || built != before+1):
			t.Errorf("%s: New = %v, %v (built %d times), want an executor", tt.name, ex, err, built-before)
		case tt.want != "" && (err == nil || err.Error() != tt.want || built != before):
			t.Errorf("%s: New = %v, %v (built %d times)\nwant the error %q and New not called", tt.name, ex, err, built-before, tt.want)
		}
	}
}

type fakeConns struct{}

func (fakeConns) Connection(string) (Connection, bool) { return Connection{}, false }
func (fakeConns) Connections() []Connection            { return nil }

// TestRegisterRefusesUnknownNeed: a misspelt service is a registration
// mistake, caught when the program starts.
func TestRegisterRefusesUnknownNeed(t *testing.T) {
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.Contains(msg, `task.Register("test.typo"): needs "Directory", which is no service of task.Env`) {
			t.Errorf("panic %v", r)
		}
		if _, ok := Lookup("test.typo"); ok {
			t.Error("test.typo was registered")
		}
	}()
	Register(Def{ID: "test.typo", Needs: []Service{"Directory"},
		New: func(*Env) (Executor, error) { return nil, nil }})
}
