package pluginsdk

import "context"

// NewReceiveResult returns an empty ReceiveResult with room for n events, for
// Receive to fill and return:
//
//	res := pluginsdk.NewReceiveResult(ctx, len(docs))
//	res.Events = append(res.Events, ev)
//	return res, nil
//
// Under Wasm the guest glue hands out the same result on every call, emptied:
// it has encoded the previous one for the host before the next call starts,
// and the result and its event slice are two of the few allocations a small
// connector makes per event, each of which costs a Go guest about as much as
// the connector's own code (pluginsdk/RATIONALE.md §8). Natively and as a
// go-plugin it is a fresh result, as &ReceiveResult{} would be. So use it
// only for the result Receive returns, and keep nothing of it (the result,
// its Events or Rejected slices) once Receive has returned.
func NewReceiveResult(ctx context.Context, n int) *ReceiveResult {
	if s, ok := ctx.(ReceiveResultSource); ok {
		if r := s.ReceiveResult(n); r != nil {
			return r
		}
	}
	return &ReceiveResult{Events: make([]Event, 0, n)}
}

// ReceiveResultSource is implemented by the call context of SDK glue that
// reuses one ReceiveResult across calls (pluginsdk/wasm); connectors have no
// use for it. ReceiveResult returns an empty result with room for n events,
// or nil to let NewReceiveResult allocate one (it hands out at most one per
// call).
type ReceiveResultSource interface {
	ReceiveResult(n int) *ReceiveResult
}
