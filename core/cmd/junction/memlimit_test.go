package main

import (
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/junctionhub/junction/core/config"
)

func TestApplyMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	tests := []struct {
		name      string
		env       string
		setting   int64
		wantLimit int64
	}{
		{"settings default", "", config.DefaultMemoryLimit, config.DefaultMemoryLimit},
		{"settings value", "", 300 << 20, 300 << 20},
		{"none", "", config.NoMemoryLimit, math.MaxInt64},
		// The runtime reads GOMEMLIMIT only at start; here it stands for the
		// limit the runtime applied from it, which must be left alone.
		{"GOMEMLIMIT wins", "100MiB", 300 << 20, 77 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOMEMLIMIT", tt.env)
			if tt.env != "" {
				debug.SetMemoryLimit(77 << 20)
			}
			if got := applyMemoryLimit(tt.setting, quiet); got != tt.wantLimit {
				t.Errorf("applyMemoryLimit = %d, want %d", got, tt.wantLimit)
			}
			if got := debug.SetMemoryLimit(-1); got != tt.wantLimit {
				t.Errorf("runtime limit = %d, want %d", got, tt.wantLimit)
			}
		})
	}
}
