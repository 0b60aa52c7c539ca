package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/junctionhub/junction/core/config"
)

// applyMemoryLimit sets the Go runtime's soft memory limit from Settings
// memory_limit, unless the GOMEMLIMIT environment variable is set: the
// runtime has applied that one already, and an operator's explicit
// environment wins over the config files. It returns the limit in force
// (math.MaxInt64: none).
func applyMemoryLimit(limit int64, logger *slog.Logger) int64 {
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		cur := debug.SetMemoryLimit(-1) // -1 reads without changing
		logger.Info("soft memory limit from GOMEMLIMIT", "gomemlimit", env, "bytes", cur)
		return cur
	}
	if limit == config.NoMemoryLimit {
		debug.SetMemoryLimit(math.MaxInt64)
		logger.Info("no soft memory limit (memory_limit: none)")
		return math.MaxInt64
	}
	debug.SetMemoryLimit(limit)
	logger.Debug("soft memory limit", "bytes", limit)
	return limit
}
