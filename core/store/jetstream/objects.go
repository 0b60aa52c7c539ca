package jetstream

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Objects is a JetStream object store bucket kept beside the store's
// stream, for files every node needs (installed plugins). It has its own
// connection: a node opens it before the store (plugins are synced before
// the configuration that uses them is validated), and a command-line
// install opens it without a store at all.
type Objects struct {
	jetstream.ObjectStore
	nc    *nats.Conn
	ownNC bool
}

// ObjectsBucket names the bucket of suffix beside stream ("" for
// DefaultStream): JUNCTION_PLUGINS for the plugins of the default stream.
func ObjectsBucket(stream, suffix string) string {
	if stream == "" {
		stream = DefaultStream
	}
	return stream + "_" + suffix
}

// OpenObjects connects as Open does (o.URL, o.Credentials, or o.Conn) and
// creates or updates the bucket ObjectsBucket(o.Stream, suffix), with the
// store's replicas, waiting like Open while the cluster is still forming.
// Close closes the connection it opened.
func OpenObjects(ctx context.Context, o Options, suffix string) (*Objects, error) {
	if o.Stream == "" {
		o.Stream = DefaultStream
	}
	if !streamName.MatchString(o.Stream) {
		return nil, fmt.Errorf("open object store: stream name %q: want 1-64 letters, digits, '_' or '-'", o.Stream)
	}
	if o.Replicas == 0 {
		o.Replicas = DefaultReplicas
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	bucket := ObjectsBucket(o.Stream, suffix)
	obj := &Objects{nc: o.Conn}
	if obj.nc == nil {
		nc, err := connect(ctx, o)
		if err != nil {
			return nil, fmt.Errorf("open object store %s: %w", bucket, err)
		}
		obj.nc, obj.ownNC = nc, true
	}
	js, err := jetstream.New(obj.nc, jetstream.WithDefaultTimeout(o.Timeout))
	if err != nil {
		obj.Close()
		return nil, fmt.Errorf("open object store %s: %w", bucket, err)
	}
	cfg := jetstream.ObjectStoreConfig{
		Bucket:      bucket,
		Description: "Junction: files every node of the cluster keeps (" + suffix + ")",
		Storage:     jetstream.FileStorage,
		Replicas:    o.Replicas,
	}
	deadline := time.Now().Add(startupWait)
	for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 2*time.Second) {
		obj.ObjectStore, err = js.CreateOrUpdateObjectStore(ctx, cfg)
		if err == nil {
			return obj, nil
		}
		if !Transient(err) || time.Now().After(deadline) {
			obj.Close()
			return nil, fmt.Errorf("open object store %s: %w", bucket, err)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			obj.Close()
			return nil, fmt.Errorf("open object store %s: %w", bucket, err)
		}
	}
}

// Close closes the connection OpenObjects opened; a Conn it was given stays
// open.
func (o *Objects) Close() {
	if o.ownNC {
		o.nc.Close()
	}
}
