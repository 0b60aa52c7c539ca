package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/lease"
	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream"
)

// engine is a store with what the hub needs beyond store.Store: disk
// usage for GET /api/v1/status and the retention sweeps (expiry.go).
type engine interface {
	store.Store
	Usage(ctx context.Context) (store.Usage, error)
	startExpiry(p store.RetentionPolicy) sweeper
}

// sweeper is a running retention sweep.
type sweeper interface {
	Close()
	Last() store.Sweep
}

type badgerEngine struct{ *store.Badger }

func (b badgerEngine) startExpiry(p store.RetentionPolicy) sweeper { return b.StartExpiry(p) }

type jetstreamEngine struct{ *jetstream.Store }

func (j jetstreamEngine) startExpiry(p store.RetentionPolicy) sweeper { return j.StartExpiry(p) }

// openStore opens the store Settings select. Badger lives in the data dir;
// JetStream on the NATS servers of store.url. Either way the secrets key
// comes from JUNCTION_SECRET_KEY, else the data dir's secret.key (beside,
// not inside, the Badger files): a cluster's nodes need the same key, which
// the JetStream store checks at open.
func openStore(ctx context.Context, s config.Settings, log *slog.Logger) (engine, error) {
	key, err := store.LoadSecretKey(s.DataDir)
	if err != nil {
		return nil, err
	}
	if s.Store.Type == config.StoreJetStream {
		st, err := jetstream.Open(ctx, jetstream.Options{
			URL: s.Store.URL, Credentials: s.Store.Credentials, Stream: s.Store.Stream,
			Replicas: s.Store.Replicas, SecretKey: key, Logger: log,
		})
		if err != nil {
			return nil, err
		}
		return jetstreamEngine{st}, nil
	}
	st, err := store.Open(ctx, filepath.Join(s.DataDir, "badger"), store.Options{
		Logger: log, SecretKey: key, MinFreeBytes: s.Retention.MinFreeBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", s.DataDir, err)
	}
	// Leases a killed process left would hold its fetches and schedules
	// back for their TTL after the restart.
	if err := lease.ForgetDead(ctx, st); err != nil {
		_ = st.Close()
		return nil, err
	}
	return badgerEngine{st}, nil
}

const adminTokenKey = "admin/token-sha256"

// adminToken returns the hash of the admin token. JUNCTION_ADMIN_TOKEN wins;
// otherwise the stored hash; otherwise a new token is made, its hash stored,
// and the token returned once for printing.
func adminToken(ctx context.Context, kv store.KV, env func(string) (string, bool)) ([32]byte, string, error) {
	var hash [32]byte
	if tok, ok := env("JUNCTION_ADMIN_TOKEN"); ok && tok != "" {
		hash = sha256.Sum256([]byte(tok))
		if err := kv.Set(ctx, adminTokenKey, hash[:], 0); err != nil {
			return hash, "", fmt.Errorf("store admin token hash: %w", err)
		}
		return hash, "", nil
	}
	v, err := kv.Get(ctx, adminTokenKey)
	if err == nil && len(v) == len(hash) {
		copy(hash[:], v)
		return hash, "", nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return hash, "", fmt.Errorf("read admin token hash: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return hash, "", fmt.Errorf("generate admin token: %w", err)
	}
	tok := "jct_" + base64.RawURLEncoding.EncodeToString(b)
	hash = sha256.Sum256([]byte(tok))
	if err := kv.Set(ctx, adminTokenKey, hash[:], 0); err != nil {
		return hash, "", fmt.Errorf("store admin token hash: %w", err)
	}
	return hash, tok, nil
}
