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
	"github.com/junctionhub/junction/core/store"
)

// openStore opens the Badger store in the data dir. The secrets key lives
// in the data dir itself (JUNCTION_SECRET_KEY wins), beside, not inside,
// the Badger files.
func openStore(ctx context.Context, s config.Settings, log *slog.Logger) (*store.Badger, error) {
	key, err := store.LoadSecretKey(s.DataDir)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, filepath.Join(s.DataDir, "badger"), store.Options{
		Logger: log, SecretKey: key, MinFreeBytes: s.Retention.MinFreeBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", s.DataDir, err)
	}
	return st, nil
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
