// Command marketo is Junction's Marketo connector plugin. It pulls leads and
// lead activities from the Marketo REST API (fetch, with paging-token
// cursors) and performs upsert_lead, add_lead_to_campaign and
// add_lead_to_program. It reaches Marketo only through the host's HTTP
// client and keeps its OAuth token and a shared rate-limit window in the
// connection's KV store. Build it with `junction plugin build plugins/marketo`.
package main

import (
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/serve"
)

func init() { pluginsdk.Register(func() pluginsdk.Connector { return New() }) }

func main() { serve.Main() }
