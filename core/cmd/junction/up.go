package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/hub"
)

func newUpCmd(build bool) *cobra.Command {
	var configs []string
	var dataDir, addr, logLevel, storeFlag, pprofFlag string
	use, short := "serve", "Serve with the installed plugins (production): loads every config and serves"
	if build {
		use, short = "up", "Build bundled plugins if needed, load every config, and serve"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(logLevel)
			if err != nil {
				return usageError{err}
			}
			out := cmd.OutOrStdout()
			h, err := hub.Open(cmd.Context(), hub.Options{
				ConfigPaths: configs, DataDir: dataDir, Addr: addr, Store: storeFlag, BuildPlugins: build, Out: out, Logger: logger,
			})
			if err != nil {
				return err
			}
			applyMemoryLimit(h.Settings.MemoryLimit, logger)
			if pprofFlag != "" {
				pa, err := startPprof(cmd.Context(), pprofFlag, logger)
				if err != nil {
					h.Close()
					return usageError{err}
				}
				fmt.Fprintf(out, "  pprof:    http://%s/debug/pprof/\n", pa)
			}
			a, err := h.Listen()
			if err != nil {
				h.Close()
				return err
			}
			url := consoleURL(a.String())
			if h.Settings.TLS != nil {
				url = "https" + strings.TrimPrefix(url, "http")
			}
			fmt.Fprintf(out, "junction is serving on %s (data in %s)\n", url, h.Settings.DataDir)
			if st := h.Settings.Store; st.Type == config.StoreJetStream {
				fmt.Fprintf(out, "  store:    jetstream stream %s, %d replicas\n", st.Stream, st.Replicas)
			}
			fmt.Fprintf(out, "  console:  %s/\n  hooks:    %s/hooks/{connection}\n  api:      %s/api/v1\n", url, url, url)
			if h.NewAdminToken != "" {
				fmt.Fprintf(out, "  admin token (shown once, stored hashed): %s\n", h.NewAdminToken)
				fmt.Fprintf(out, "  export JUNCTION_ADMIN_TOKEN=%s\n", h.NewAdminToken)
			}
			reloadOnSIGHUP(cmd.Context(), h, logger)
			return h.Run(cmd.Context())
		},
	}
	cmd.Flags().StringArrayVar(&configs, "config", []string{"configs"}, "config file or folder (repeatable)")
	cmd.Flags().StringVar(&dataDir, "data", "", "data directory (default from Settings, ./data)")
	cmd.Flags().StringVar(&addr, "addr", "", "listen address (default from Settings, :8080)")
	cmd.Flags().StringVar(&storeFlag, "store", "", "store engine: badger, or a NATS URL (nats://host:4222[,...]) for JetStream (default from Settings, badger)")
	cmd.Flags().StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	cmd.Flags().StringVar(&pprofFlag, "pprof", "", "serve net/http/pprof on this address, its own listener (:6060 binds 127.0.0.1; off by default)")
	return cmd
}

func consoleURL(addr string) string {
	host, port, ok := strings.Cut(addr, "]:")
	if ok { // IPv6 [::]:8080
		host = strings.TrimPrefix(host, "[")
	} else {
		i := strings.LastIndex(addr, ":")
		host, port = addr[:i], addr[i+1:]
	}
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "localhost"
	}
	return "http://" + host + ":" + port
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
