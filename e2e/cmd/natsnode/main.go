// Command natsnode runs one NATS server with JetStream, optionally as a
// member of a cluster, from flags. It embeds the same nats-server module the
// store's tests use, so the cluster e2e (e2e/cluster_harness_test.go) can run
// each server as a process of its own and kill it with -9, and so a cluster
// can be tried on one machine without installing nats-server:
//
//	go run ./e2e/cmd/natsnode -name n1 -port 4222 -store /tmp/n1 \
//	    -cluster-port 6222 -routes nats://127.0.0.1:6222,nats://127.0.0.1:6223,nats://127.0.0.1:6224
//	go run ./e2e/cmd/natsnode -config n1.conf   # a nats-server config file instead of flags
//
// It logs to stderr and stops cleanly on SIGTERM or SIGINT. Production
// clusters use the real nats-server binary (README.md, "Running a cluster").
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "natsnode:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		config      = flag.String("config", "", "nats-server config file; no other flag may be given with it")
		name        = flag.String("name", "", "server name, unique in the cluster (required)")
		host        = flag.String("host", "127.0.0.1", "interface for the client and cluster ports")
		port        = flag.Int("port", 4222, "client port")
		storeDir    = flag.String("store", "", "JetStream store directory (required)")
		clusterName = flag.String("cluster", "junction", "cluster name; every member uses the same")
		clusterPort = flag.Int("cluster-port", 0, "cluster (route) port; 0 runs a single server")
		routes      = flag.String("routes", "", "comma-separated nats://host:cluster-port of every member (its own is ignored)")
		syncAlways  = flag.Bool("sync-always", false, "fsync every JetStream write (sync_always)")
		debug       = flag.Bool("debug", false, "debug logging")
	)
	flag.Parse()
	opts, err := options(*config, *name, *storeDir)
	if err != nil {
		return err
	}
	if opts == nil {
		opts = &server.Options{
			ServerName: *name,
			Host:       *host,
			Port:       *port,
			JetStream:  true,
			StoreDir:   *storeDir,
			SyncAlways: *syncAlways,
			Logtime:    true,
			Debug:      *debug,
		}
		if *clusterPort != 0 {
			opts.Cluster = server.ClusterOpts{Name: *clusterName, Host: *host, Port: *clusterPort}
			opts.Routes = server.RoutesFromStr(*routes)
		}
	}
	// Signals are handled below, so that SIGTERM waits for a clean shutdown
	// of the store before the process exits.
	opts.NoSigs = true
	srv := opts.ServerName
	s, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats server %s: %w", srv, err)
	}
	s.ConfigureLogger()
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("nats server %s: not ready for connections after 30s", srv)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		s.WaitForShutdown()
		close(done)
	}()
	select {
	case <-sig:
		s.Shutdown()
		<-done
	case <-done:
		return fmt.Errorf("nats server %s stopped on its own", srv)
	}
	return nil
}

// options reads the config file when one is given (nil, nil otherwise, for
// the flags to build the options).
func options(config, name, storeDir string) (*server.Options, error) {
	if config == "" {
		if name == "" || storeDir == "" {
			flag.Usage()
			return nil, fmt.Errorf("-name and -store (or -config) are required")
		}
		return nil, nil
	}
	if flag.NFlag() > 1 {
		return nil, fmt.Errorf("-config takes no other flag: set everything in %s", config)
	}
	opts, err := server.ProcessConfigFile(config)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", config, err)
	}
	if !opts.JetStream {
		return nil, fmt.Errorf("config %s: no jetstream block", config)
	}
	return opts, nil
}
