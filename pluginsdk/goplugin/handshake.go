package goplugin

import (
	"net/rpc"

	"github.com/hashicorp/go-plugin"
	"github.com/junctionhub/junction/pluginsdk"
)

// ProtocolVersion is the version of this package's RPC protocol. Bump it
// when a method or a wire type changes incompatibly; go-plugin then refuses
// a plugin built against another version with a clear message.
const ProtocolVersion = 1

// PluginName is the name the connector is dispensed under.
const PluginName = "connector"

// Handshake is shared by the host and every plugin binary. The magic cookie
// is not a security measure: it makes a plugin binary started by hand print
// that it is meant to be run by Junction instead of hanging.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "JUNCTION_PLUGIN",
	MagicCookieValue: "3f1c9b2e-junction-connector",
}

// PluginSet is the plugin set for plugin.ClientConfig (impl nil) and
// plugin.ServeConfig (impl the connector to serve).
func PluginSet(impl pluginsdk.Connector) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &ConnectorPlugin{Impl: impl}}
}

// ConnectorPlugin adapts a connector to go-plugin's net/rpc plugin
// interface. Impl is set in the plugin process and nil in the host.
type ConnectorPlugin struct {
	Impl pluginsdk.Connector
	ep   *endpoint // the direct endpoint, when served by Serve
}

// Server is called in the plugin process when the host dispenses the
// connector.
func (p *ConnectorPlugin) Server(b *plugin.MuxBroker) (any, error) {
	return newConnectorServer(p.Impl, b, p.ep), nil
}

// Client is called in the host; it returns a *Client, moved to the direct
// path when the plugin offers one.
func (p *ConnectorPlugin) Client(b *plugin.MuxBroker, c *rpc.Client) (any, error) {
	cl := newClient(b, c)
	cl.goDirect()
	return cl, nil
}

// Serve serves c over go-plugin and returns when the host tells the plugin
// to quit. It is meant to be called from a plugin binary's main (through
// pluginsdk/serve.Main), never from a host.
func Serve(c pluginsdk.Connector) {
	if c == nil {
		panic("goplugin.Serve: nil connector (did the plugin call pluginsdk.Register?)")
	}
	ep := &endpoint{}
	defer ep.close()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{PluginName: &ConnectorPlugin{Impl: c, ep: ep}},
	})
}
