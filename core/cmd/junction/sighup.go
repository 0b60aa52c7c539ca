package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/hub"
)

// reloadOnSIGHUP reads the hub's --config paths again and applies them on
// each SIGHUP, until ctx ends. A refused configuration is logged, one
// error per line, and the running one stays.
func reloadOnSIGHUP(ctx context.Context, h *hub.Hub, log *slog.Logger) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	go func() {
		defer signal.Stop(sig)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
			}
			res, err := h.Reload(ctx)
			if err != nil {
				for line := range strings.SplitSeq(config.FormatErrors(err), "\n") {
					log.Error("SIGHUP: configuration refused; the running one stays", "err", line)
				}
				continue
			}
			log.Info("SIGHUP: configuration reloaded", "config_version", res.Version.Counter, "unchanged", res.Unchanged)
		}
	}()
}
