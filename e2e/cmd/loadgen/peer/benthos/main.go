// Command benthos is the peer loadgen measures Junction against (issue 12):
// Benthos, built from its library with the io and pure components, running
// the embedded benthos.yaml. Its addresses come from the environment, as in
// any Benthos config: PEER_ADDR (the HTTP listener), PEER_OUT (every event,
// one a line) and PEER_MATCHED (the mapped events the filter keeps).
//
// It lives in a module of its own so that Junction's go.mod, `go test ./...`
// and `go vet ./...` never see Benthos's dependencies.
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/redpanda-data/benthos/v4/public/components/io"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

//go:embed benthos.yaml
var config string

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-print-config" {
		fmt.Print(config)
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config); err != nil {
		fmt.Fprintln(os.Stderr, "peer benthos:", err)
		os.Exit(1)
	}
}

// run builds the stream from conf and runs it until ctx ends, then lets
// in-flight requests finish (for at most 10 s) before it returns.
func run(ctx context.Context, conf string) error {
	for _, name := range []string{"PEER_ADDR", "PEER_OUT", "PEER_MATCHED"} {
		if os.Getenv(name) == "" {
			return fmt.Errorf("%s is not set", name)
		}
	}
	b := service.NewStreamBuilder()
	if err := b.SetYAML(conf); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	stream, err := b.Build()
	if err != nil {
		return fmt.Errorf("build stream: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- stream.Run(context.Background()) }()
	select {
	case err := <-done:
		return fmt.Errorf("stream stopped: %w", err)
	case <-ctx.Done():
	}
	if err := stream.StopWithin(10 * time.Second); err != nil {
		return fmt.Errorf("stop stream: %w", err)
	}
	return nil
}
