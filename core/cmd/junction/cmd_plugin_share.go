package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/hub"
	"github.com/junctionhub/junction/core/plugin/pluginsync"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/core/store/jetstream"
)

// shareTimeout bounds reaching the cluster and putting or deleting one
// plugin there.
const shareTimeout = 2 * time.Minute

// withPluginBucket runs f on the cluster's plugin bucket of Settings'
// JetStream store.
func withPluginBucket(ctx context.Context, s config.Settings, f func(context.Context, *jetstream.Objects) error) error {
	ctx, cancel := context.WithTimeout(ctx, shareTimeout)
	defer cancel()
	b, err := hub.OpenPluginBucket(ctx, s)
	if err != nil {
		return err
	}
	defer b.Close()
	return f(ctx, b)
}

func pluginBucketName(s config.Settings) string {
	return jetstream.ObjectsBucket(s.Store.Stream, pluginsync.BucketSuffix)
}

// sharePlugin puts a plugin this node just installed (its checks passed) in
// the cluster's plugin bucket when Settings' store is JetStream, so every
// node installs it after its own checks (core/plugin/pluginsync). On
// Badger there is one node and nothing to share.
func sharePlugin(cmd *cobra.Command, s config.Settings, p *registry.Plugin) error {
	if s.Store.Type != config.StoreJetStream {
		return nil
	}
	err := withPluginBucket(cmd.Context(), s, func(ctx context.Context, b *jetstream.Objects) error {
		return pluginsync.Publish(ctx, b, p)
	})
	if err != nil {
		return fmt.Errorf("installed %s on this node only: %w (install it again when NATS answers: that shares it)", p.ID(), err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "  shared with the cluster (bucket %s): each node installs it once its own trusted_keys and require_signatures accept it\n", pluginBucketName(s))
	return nil
}

// unsharePlugin deletes a removed plugin from the cluster's bucket, so that
// every node removes its copy. It reports whether the bucket held it.
func unsharePlugin(cmd *cobra.Command, s config.Settings, id string) (bool, error) {
	if s.Store.Type != config.StoreJetStream {
		return false, nil
	}
	var held bool
	err := withPluginBucket(cmd.Context(), s, func(ctx context.Context, b *jetstream.Objects) error {
		var err error
		held, err = pluginsync.Unpublish(ctx, b, id)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%w (run junction plugin remove %s again when NATS answers)", err, id)
	}
	if held {
		fmt.Fprintf(cmd.OutOrStdout(), "  removed from the cluster (bucket %s): every node removes its copy\n", pluginBucketName(s))
	}
	return held, nil
}
