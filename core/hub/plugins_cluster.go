package hub

import (
	"context"
	"errors"
	"log/slog"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/plugin/pluginsync"
	"github.com/junctionhub/junction/core/store/jetstream"
)

// clusterPlugins keeps this node's installed plugins in step with the
// cluster's (pluginsync): the bucket <STREAM>_PLUGINS beside the JetStream
// store, on a connection of its own.
type clusterPlugins struct {
	objects *jetstream.Objects
	sync    *pluginsync.Sync
}

// openClusterPlugins installs every plugin the cluster shares that this
// node lacks, then keeps watching. It comes right after openPlugins and
// before the configuration is validated, so a connection using a plugin
// another node installed validates and opens here too. With the Badger
// store there is no cluster: it returns nil.
func openClusterPlugins(ctx context.Context, s config.Settings, p *Plugins, log *slog.Logger) (*clusterPlugins, error) {
	if s.Store.Type != config.StoreJetStream {
		return nil, nil
	}
	trust, err := pluginsync.TrustOptions(s)
	if err != nil {
		return nil, err
	}
	obj, err := OpenPluginBucket(ctx, s)
	if err != nil {
		return nil, err
	}
	sy, err := pluginsync.Start(ctx, pluginsync.Options{Registry: p.Registry(), Bucket: obj, Install: trust, Logger: log})
	if err != nil {
		obj.Close()
		return nil, err
	}
	return &clusterPlugins{objects: obj, sync: sy}, nil
}

// OpenPluginBucket opens the cluster's plugin bucket beside the JetStream
// store that Settings name (`junction plugin install` and `remove` share
// through it too).
func OpenPluginBucket(ctx context.Context, s config.Settings) (*jetstream.Objects, error) {
	return jetstream.OpenObjects(ctx, jetstream.Options{
		URL: s.Store.URL, Credentials: s.Store.Credentials, Stream: s.Store.Stream, Replicas: s.Store.Replicas,
	}, pluginsync.BucketSuffix)
}

// refusedFunc lists the cluster's plugins this node refused, for the API;
// nil without a cluster.
func (c *clusterPlugins) refusedFunc() func() []pluginsync.Refusal {
	if c == nil {
		return nil
	}
	return c.sync.Refused
}

// Close stops the watch, then closes its connection.
func (c *clusterPlugins) Close() error {
	if c == nil {
		return nil
	}
	err := c.sync.Close()
	c.objects.Close()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
