package events

import (
	"context"
	"time"

	"github.com/junctionhub/junction/core/event"
)

// eventLog is what collecting reads of store.Log.
type eventLog interface {
	Read(ctx context.Context, after uint64, limit int) ([]event.Event, error)
	LastSeq() uint64
}

// Slack is how far the log's receive times may run out of sequence order.
// An event's ReceivedAt is stamped when its append is prepared and its
// sequence when the store's single committer writes it, so two concurrent
// appends may commit in the opposite order of their stamps (by the commit
// latency, milliseconds; seconds when the disk stalls), and a wall clock
// step moves stamps either way. The search starts Slack before the window
// and the scan runs until an event Slack after it, so such events are
// still placed by their own ReceivedAt.
const Slack = time.Minute

// readPage is how many events one log read returns (the store's maximum).
const readPage = 10_000

// seek returns the sequence after which the log holds events received at or
// after t: a binary search over sequences, one single-event read per probe
// (about log2 of the log's length), which works because receive order is
// sequence order up to Slack. The log's sequences may have gaps; events
// appended meanwhile are after the answer anyway.
func seek(ctx context.Context, lg eventLog, t time.Time) (after uint64, probes int, err error) {
	lo, hi := uint64(0), lg.LastSeq()
	// Invariant: the events up to lo were received before t; the first
	// event after hi (if any) was received at or after t.
	for lo < hi {
		mid := lo + (hi-lo)/2
		evs, err := lg.Read(ctx, mid, 1)
		probes++
		if err != nil {
			return 0, probes, err
		}
		if len(evs) == 0 || !evs[0].ReceivedAt.Before(t) {
			hi = mid
			continue
		}
		lo = min(evs[0].Seq, hi)
	}
	return lo, probes, nil
}

// scan calls fn, in sequence order, for every event received in [from, to).
// It reads from Slack before from to the first event received Slack after
// to (or the end of the log). An error of fn ends the scan with it.
func scan(ctx context.Context, lg eventLog, from, to time.Time, fn func(ev *event.Event) error) (scanned int, err error) {
	after, _, err := seek(ctx, lg, from.Add(-Slack))
	if err != nil {
		return 0, err
	}
	stop := to.Add(Slack)
	for {
		evs, err := lg.Read(ctx, after, readPage)
		if err != nil {
			return scanned, err
		}
		for i := range evs {
			ev := &evs[i]
			if !ev.ReceivedAt.Before(stop) {
				return scanned, nil
			}
			scanned++
			if ev.ReceivedAt.Before(from) || !ev.ReceivedAt.Before(to) {
				continue
			}
			if err := fn(ev); err != nil {
				return scanned, err
			}
		}
		if len(evs) < readPage {
			return scanned, nil
		}
		after = evs[len(evs)-1].Seq
	}
}
