package gopluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sort"
	"time"

	"github.com/hashicorp/go-hclog"
)

// newHCLogger gives go-plugin an hclog logger that writes into l. go-plugin
// logs the plugin's stderr through it (a panic's stack at error level), and
// its own process lifecycle.
func newHCLogger(l *slog.Logger) hclog.Logger {
	level := hclog.Error
	for _, p := range []struct {
		s slog.Level
		h hclog.Level
	}{{slog.LevelDebug, hclog.Debug}, {slog.LevelInfo, hclog.Info}, {slog.LevelWarn, hclog.Warn}} {
		if l.Enabled(context.Background(), p.s) {
			level = p.h
			break
		}
	}
	return hclog.New(&hclog.LoggerOptions{
		Name:       "go-plugin",
		Level:      level,
		JSONFormat: true,
		Output:     &slogWriter{l: l},
	})
}

// slogWriter turns hclog's JSON lines into slog records.
type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimSpace(p), []byte("\n")) {
		w.line(line)
	}
	return len(p), nil
}

func (w *slogWriter) line(line []byte) {
	if len(line) == 0 {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(line, &m); err != nil {
		w.l.Info(string(line))
		return
	}
	level := slog.LevelInfo
	switch m["@level"] {
	case "trace", "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	msg, _ := m["@message"].(string)
	r := slog.NewRecord(time.Now(), level, msg, 0)
	keys := make([]string, 0, len(m))
	for k := range m {
		if k != "@level" && k != "@message" && k != "@timestamp" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		r.AddAttrs(slog.Any(k, m[k]))
	}
	_ = w.l.Handler().Handle(context.Background(), r)
}
