package main

import (
	"testing"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/names"
	"github.com/junctionhub/junction/core/task"
)

// TestOneNamespace: everything the binary compiles in is in core/names
// under its dotted ID, each builtin connector's spec carries the name it is
// registered under, and nothing is registered twice across the kinds.
func TestOneNamespace(t *testing.T) {
	want := map[names.ID]bool{}
	for _, b := range connector.Builtins() {
		want[b.ID()] = true
		if s := b.New().Spec(); s.Name != b.Name {
			t.Errorf("builtin %s: its spec is named %q", b.ID(), s.Name)
		}
	}
	for _, d := range task.All() {
		want[names.Task(d.ID)] = true
	}
	all := names.All()
	for _, id := range all {
		if !want[id] {
			t.Errorf("%s is registered in core/names but is no builtin connector or task", id)
		}
		delete(want, id)
	}
	for id := range want {
		t.Errorf("%s is a builtin but not registered in core/names", id)
	}
	for _, id := range []names.ID{"connector.webhook", "connector.s3", "task.directory.upsert_contact", "task.events.collect"} {
		if !names.Registered(id) {
			t.Errorf("%s is not registered (have %v)", id, all)
		}
	}
}
