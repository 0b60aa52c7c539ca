package gopluginhost_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/junctionhub/junction/core/plugin/gopluginhost"
	"github.com/junctionhub/junction/pluginsdk"
)

// BenchmarkRoundTrip is one connector call that needs no host service (the
// plugin refuses the input at once): the floor of any go-plugin call.
func BenchmarkRoundTrip(b *testing.B) {
	c, err := gopluginhost.Start(context.Background(), gopluginhost.Options{Path: pluginBin})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Configure(context.Background(), &pluginsdk.Context{Config: json.RawMessage(`{"url":"https://x.example.com/"}`), HTTP: netHTTP{}}); err != nil {
		b.Fatal(err)
	}
	req := &pluginsdk.PerformRequest{Action: "notify", Input: json.RawMessage(`{}`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Perform(context.Background(), req); err == nil || pluginsdk.IsRetryable(err) {
			b.Fatal("want the plugin's invalid-input error")
		}
	}
}
