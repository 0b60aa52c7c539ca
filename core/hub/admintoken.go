package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/junctionhub/junction/core/config"
)

// RotateAdminToken replaces the admin token of the hub whose data dir s
// names with a new one, and returns it: only its hash is stored, so this is
// the one time it can be shown. The hub must be stopped: it holds the store
// open, and it reads the token's hash once, at start. The old token stops
// working, and with it every console session opened with it.
//
// A hub started with JUNCTION_ADMIN_TOKEN set makes that value the token
// again (adminToken): rotate by changing that value instead.
func RotateAdminToken(ctx context.Context, s config.Settings, log *slog.Logger) (string, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Opening the store would create an empty one: a mistyped --data must
	// fail, not mint a token for a hub that does not exist.
	if _, err := os.Stat(filepath.Join(s.DataDir, "badger")); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("rotate admin token: %s holds no hub data (pass the hub's --data, or the config with its data_dir)", s.DataDir)
	}
	st, err := openStore(ctx, s, log)
	if err != nil {
		return "", fmt.Errorf("rotate admin token: %w (stop the hub first: it holds the store open)", err)
	}
	defer st.Close()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("rotate admin token: generate: %w", err)
	}
	tok := "jct_" + base64.RawURLEncoding.EncodeToString(b)
	hash := sha256.Sum256([]byte(tok))
	if err := st.KV().Set(ctx, adminTokenKey, hash[:], 0); err != nil {
		return "", fmt.Errorf("rotate admin token: store its hash: %w", err)
	}
	return tok, nil
}
