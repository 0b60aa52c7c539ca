package pluginsdk_test

import (
	"context"
	"testing"

	"github.com/junctionhub/junction/pluginsdk"
)

// reusing stands for the Wasm glue's call context: one result, handed out
// once per call.
type reusing struct {
	context.Context
	res   pluginsdk.ReceiveResult
	given bool
}

func (c *reusing) ReceiveResult(n int) *pluginsdk.ReceiveResult {
	if c.given {
		return nil
	}
	c.given = true
	c.res = pluginsdk.ReceiveResult{Events: make([]pluginsdk.Event, 0, n)}
	return &c.res
}

func TestNewReceiveResult(t *testing.T) {
	// Anywhere else: a fresh, empty result with room for n events.
	a, b := pluginsdk.NewReceiveResult(context.Background(), 3), pluginsdk.NewReceiveResult(context.Background(), 3)
	if a == b || len(a.Events) != 0 || cap(a.Events) != 3 || a.Rejected != nil || a.Response.Status != 0 {
		t.Fatalf("native results %p %+v and %p", a, a, b)
	}
	// With a source: its result, once per call; then fresh ones.
	ctx := &reusing{Context: context.Background()}
	if r := pluginsdk.NewReceiveResult(ctx, 2); r != &ctx.res || cap(r.Events) != 2 {
		t.Fatalf("did not hand out the source's result: %p %+v", r, r)
	}
	if r := pluginsdk.NewReceiveResult(ctx, 2); r == &ctx.res || cap(r.Events) != 2 {
		t.Fatalf("handed out the source's result twice in one call")
	}
}
