// Command segment is Junction's Twilio Segment connector plugin. It receives
// what Segment's Webhooks destination posts and what the official Segment
// SDKs send to the HTTP Tracking API (/v1/batch, /v1/identify, ...), and
// turns every message into one event, kept in its Segment shape. Build it
// with `junction plugin build plugins/segment`.
package main

import (
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/serve"
)

func init() { pluginsdk.Register(func() pluginsdk.Connector { return &Segment{} }) }

func main() { serve.Main() }
