package hub

import (
	"context"
	"log/slog"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/fetch"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

// openConnections opens the connector of every configured connection, with
// the credentials stored since the YAML was written.
func openConnections(ctx context.Context, b *config.Bundle, p *Plugins, st store.Store, publicURL string, log *slog.Logger) (*connector.Manager, error) {
	return connector.NewManager(ctx, connector.ManagerOptions{
		Connections: b.Connections, Open: p.Open, Store: st, Logger: log, BaseURL: publicURL,
		AuthOverride: func(ctx context.Context, c *config.Connection, spec pluginsdk.Spec, yaml pluginsdk.Auth) (pluginsdk.Auth, error) {
			return storedAuth(ctx, st.Secrets(), c, spec, yaml)
		},
	})
}

// storedAuth applies credentials stored after the YAML was written: those of
// `junction connection reconnect`, and a webhook key rotated through the API,
// which replaces the key of a connection that receives pushes with an API
// key (other connections keep theirs: the key is only shown).
func storedAuth(ctx context.Context, secrets store.Secrets, c *config.Connection, spec pluginsdk.Spec, yaml pluginsdk.Auth) (pluginsdk.Auth, error) {
	if a, ok, err := fetch.ReconnectAuth(ctx, secrets, c.Name); err != nil {
		return yaml, err
	} else if ok {
		yaml = *a
	}
	if key, ok, err := fetch.WebhookKey(ctx, secrets, c.Name); err != nil {
		return yaml, err
	} else if ok && spec.HasRole(pluginsdk.RoleReceive) && yaml.Type == pluginsdk.AuthAPIKey {
		yaml.Secret = key
	}
	return yaml, nil
}
