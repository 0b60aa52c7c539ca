package connector_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
)

func conn(name, secret string) *config.Connection {
	return &config.Connection{Name: name, Connector: "recorder", Auth: config.Auth{Type: "api_key", Secret: secret},
		Pos: config.Pos{File: "c.yaml", Line: 1, Col: 1}}
}

func TestPrepareRetireCommit(t *testing.T) {
	f := newFixture(t) // connection "in", YAML secret "yaml"
	ctx := context.Background()
	in, _ := f.m.Get("in")

	// "in" unchanged (moved in its file), "out" added.
	moved := conn("in", "yaml")
	moved.Pos.Line = 40
	p, err := f.m.Prepare(ctx, []*config.Connection{moved, conn("out", "o")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Kept, ",") != "in" || strings.Join(p.Added, ",") != "out" || len(p.Changed)+len(p.Removed) != 0 {
		t.Fatalf("plan: kept %v added %v changed %v removed %v", p.Kept, p.Added, p.Changed, p.Removed)
	}
	if _, ok := f.m.Get("out"); ok {
		t.Fatal("a prepared connection serves before Commit")
	}
	p.Retire()
	p.Commit()
	if now, _ := f.m.Get("in"); now != in {
		t.Error("an unchanged connection was reopened")
	}
	if _, ok := f.m.Get("out"); !ok {
		t.Error("the added connection is not served after Commit")
	}

	// "in" gets a new secret, "out" is removed. A push holding "out"
	// delays Retire until it is done.
	_, release, ok := f.m.Acquire("out")
	if !ok {
		t.Fatal("Acquire(out) failed")
	}
	p, err = f.m.Prepare(ctx, []*config.Connection{conn("in", "new")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(p.Changed, ",") != "in" || strings.Join(p.Removed, ",") != "out" {
		t.Fatalf("plan: changed %v removed %v", p.Changed, p.Removed)
	}
	retired := make(chan struct{})
	go func() { p.Retire(); close(retired) }()
	for {
		if _, ok := f.m.Get("out"); !ok {
			break // taken out at once: new pushes get 404
		}
	}
	select {
	case <-retired:
		t.Fatal("Retire returned while a push still held the removed connection")
	default:
	}
	release()
	<-retired
	p.Commit()
	if _, _, ok := f.m.Acquire("out"); ok {
		t.Error("the removed connection is still served")
	}
	after, _ := f.m.Get("in")
	if after == in {
		t.Fatal("a changed connection kept its old connector")
	}
	if _, closed := in.Connector.(*recorder).state(); closed {
		t.Error("the replaced connector was closed at once, under calls that may still use it")
	}
}

func TestPrepareFailureChangesNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	before, _ := f.m.Get("in")
	f.failNext = true
	_, err := f.m.Prepare(ctx, []*config.Connection{conn("in", "new"), conn("other", "x")})
	var es config.Errors
	if !errors.As(err, &es) || len(es) != 2 {
		t.Fatalf("err = %v, want two positioned errors", err)
	}
	if got := es[0].Error(); !strings.HasPrefix(got, "c.yaml:1:1: connection ") || !strings.Contains(got, "refused the new credentials") {
		t.Errorf("error = %q", got)
	}
	if now, _ := f.m.Get("in"); now != before {
		t.Error("a refused change replaced the connection")
	}
	if _, ok := f.m.Get("other"); ok {
		t.Error("a refused change added a connection")
	}
	for i, r := range f.opened[1:] {
		if _, closed := r.state(); !closed {
			t.Errorf("connector %d opened for the refused change was not closed", i+1)
		}
	}
}
