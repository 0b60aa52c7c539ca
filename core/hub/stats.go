package hub

import (
	"context"
	"log/slog"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/stats"
	"github.com/junctionhub/junction/core/store"
)

// openStats opens the data overview, counting days in the org time zone,
// and marks every configured connection as connected now.
func openStats(ctx context.Context, s config.Settings, conns []*config.Connection, kv store.KV, log *slog.Logger) (*stats.Recorder, error) {
	loc, _ := time.LoadLocation(s.Timezone) // newEngine refused an unknown one
	rec, err := stats.Open(ctx, stats.Options{KV: kv, Location: loc, Logger: log})
	if err != nil {
		return nil, err
	}
	for _, c := range conns {
		rec.Connected(c.Name, time.Now())
	}
	return rec, nil
}
