// Command hello is Junction's example connector plugin: it receives JSON
// events (passing them through, or reshaping them into a few named fields)
// and performs small actions that exercise every host service. Build it with
// `junction plugin build plugins/hello`.
package main

import (
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/serve"
)

func init() { pluginsdk.Register(func() pluginsdk.Connector { return &Hello{} }) }

func main() { serve.Main() }
