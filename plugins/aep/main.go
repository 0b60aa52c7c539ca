// Command aep is Junction's Adobe Experience Platform connector plugin: it
// receives what AEP's streaming HTTP destination ("Qualtrics Automations")
// posts — one profile per request, with its segment memberships — and
// stores each profile exactly as posted. Build it with
// `junction plugin build plugins/aep`.
package main

import (
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/serve"
)

func init() { pluginsdk.Register(func() pluginsdk.Connector { return &AEP{} }) }

func main() { serve.Main() }
