// Command salesforce is Junction's Salesforce connector plugin: it receives
// Salesforce outbound messages (SOAP notifications sent by Workflow Rules and
// Flows) at /hooks/<connection> and turns each notification into one event.
// Build it with `junction plugin build plugins/salesforce`.
package main

import (
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/serve"
)

func init() { pluginsdk.Register(func() pluginsdk.Connector { return &Salesforce{} }) }

func main() { serve.Main() }
