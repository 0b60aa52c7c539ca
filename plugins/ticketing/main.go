// Command ticketing is the connector of the author's guide
// (pluginsdk/GUIDE.md): it receives help-desk webhooks signed with
// HMAC-SHA256 under a shared secret, and adds notes to tickets through the
// help desk's REST API. It imports only pluginsdk, as a third party would.
package main

import (
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/serve"
)

// Registered in init, not main: a Wasm module runs package initialisation
// but never main.
func init() { pluginsdk.Register(func() pluginsdk.Connector { return &Ticketing{} }) }

// main serves the go-plugin protocol when built natively; under Wasm it
// links the guest glue.
func main() { serve.Main() }
