//go:build !wasip1

package serve

import (
	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/goplugin"
)

// Main serves the connector registered with pluginsdk.Register as a go-plugin
// process and returns when the host stops it.
func Main() {
	f := pluginsdk.Registered()
	if f == nil {
		panic("serve.Main: no connector registered: call pluginsdk.Register from an init function")
	}
	goplugin.Serve(f())
}
