package doctor

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

func TestCheckStore(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	js := config.StoreSettings{Type: config.StoreJetStream, URL: c.URL(), Replicas: 1, Stream: "JUNCTION", Node: "eu-1"}
	createStream := func(t *testing.T) {
		st, err := jetstream.Open(context.Background(), jetstream.Options{URL: c.URL(), Replicas: 1,
			SecretKey: bytes.Repeat([]byte{3}, store.SecretKeySize), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		_ = st.Close()
	}
	tests := []struct {
		name    string
		store   config.StoreSettings
		prepare func(t *testing.T)
		want    string // "status detail prefix"
	}{
		{"badger", config.StoreSettings{Type: config.StoreBadger, Node: "solo"}, nil, "ok badger in "},
		{"stream not created yet", js, nil, "warn jetstream: stream JUNCTION does not exist on nats://127.0.0.1:"},
		{"healthy", js, createStream, "ok jetstream stream JUNCTION via nats://127.0.0.1:"},
		{"servers down", js, func(*testing.T) { c.Shutdown() }, "FAIL jetstream: connect nats://127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prepare != nil {
				tt.prepare(t)
			}
			s := config.DefaultSettings()
			s.DataDir, s.Store = t.TempDir(), tt.store
			r := &Report{}
			checkStore(context.Background(), r, s)
			if len(r.Checks) != 1 {
				t.Fatalf("checks %+v, want one", r.Checks)
			}
			got := string(r.Checks[0].Status) + " " + r.Checks[0].Detail
			if !strings.HasPrefix(got, tt.want) || r.Checks[0].Name != "store" {
				t.Errorf("got %q, want it to start %q", got, tt.want)
			}
			if !strings.Contains(got, tt.store.Node) && r.Checks[0].Status == OK {
				t.Errorf("%q does not name the node %s", got, tt.store.Node)
			}
		})
	}
}
