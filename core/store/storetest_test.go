package store_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/storetest"
)

// TestAcceptance holds Badger to the store contract shared with every
// other implementation.
func TestAcceptance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		Open: func(t *testing.T, dir string) store.Store {
			s, err := store.Open(context.Background(), dir, store.Options{
				Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
				SecretKey: bytes.Repeat([]byte{9}, store.SecretKeySize),
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		},
	})
}
