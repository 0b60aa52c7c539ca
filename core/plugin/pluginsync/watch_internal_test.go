package pluginsync

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// fakeWatcher delivers the updates it was made with, then nothing.
type fakeWatcher struct {
	updates chan *jetstream.ObjectInfo
	stopped bool
}

func (w *fakeWatcher) Updates() <-chan *jetstream.ObjectInfo { return w.updates }
func (w *fakeWatcher) Stop() error                           { w.stopped = true; return nil }

// silentFirst's first watch never ends its first pass (as a watch of an
// empty bucket whose first read timed out); later watches end it at once.
type silentFirst struct {
	jetstream.ObjectStore
	watches []*fakeWatcher
}

func (b *silentFirst) Watch(context.Context, ...jetstream.WatchOpt) (jetstream.ObjectWatcher, error) {
	w := &fakeWatcher{updates: make(chan *jetstream.ObjectInfo, 2)}
	if len(b.watches) > 0 {
		w.updates <- &jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: "greeter@1.0.0/wasm"}}
		w.updates <- nil
	}
	b.watches = append(b.watches, w)
	return w, nil
}

// TestWatchFirstPassStalled: a watch whose first pass stops short is
// stopped and made again, and the first pass of the new one is returned.
func TestWatchFirstPassStalled(t *testing.T) {
	defer func(d time.Duration) { firstPassWait = d }(firstPassWait)
	firstPassWait = 100 * time.Millisecond
	b := &silentFirst{}
	o := Options{Bucket: b, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, first, err := watch(ctx, context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.watches) != 2 || !b.watches[0].stopped || w != b.watches[1] {
		t.Fatalf("%d watches (first stopped: %v), want the stalled one stopped and a second returned", len(b.watches), len(b.watches) > 0 && b.watches[0].stopped)
	}
	if len(first) != 1 || first[0].Name != "greeter@1.0.0/wasm" {
		t.Fatalf("first pass %v, want the second watch's one object", first)
	}
}
