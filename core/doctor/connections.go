package doctor

import (
	"context"

	"sync"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector"
)

// probeParallel is how many connections are probed at once: each probe
// mostly waits on the network, and a config with many placeholders should
// not take one timeout per connection.
const probeParallel = 4

var probeStatus = map[connector.ProbeStatus]Status{
	connector.ProbeOK: OK, connector.ProbeWarn: Warn, connector.ProbeFail: Fail, connector.ProbeSkip: Skip,
}

// checkConnections probes every connection, in the order of the config.
func checkConnections(ctx context.Context, r *Report, o Options, b *config.Bundle) {
	results := make([][]connector.ProbeResult, len(b.Connections))
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	for i, cc := range b.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = connector.ProbeConnection(ctx, cc, connector.ProbeOptions{Logger: o.Logger, Timeout: o.ProbeTimeout})
		}()
	}
	wg.Wait()
	for i, cc := range b.Connections {
		for _, res := range results[i] {
			st, ok := probeStatus[res.Status]
			if !ok {
				st = Fail
			}
			r.add(st, "connection "+cc.Name, "%s: %s", res.Check, res.Detail)
		}
	}
	if len(b.Connections) == 0 {
		r.add(Skip, "connections", "none configured")
	}
}
