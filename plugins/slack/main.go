// Command slack is a Slack-style notifier connector: its one
// action, notify, posts a JSON message to an incoming-webhook URL. It is the
// reference go-plugin connector, written only against pluginsdk, and the
// same source builds as a Wasm module.
package main

import (
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/serve"
)

// Registered in init, not main: a Wasm reactor module runs package
// initialisation but never main.
func init() { pluginsdk.Register(New) }

func main() { serve.Main() }
