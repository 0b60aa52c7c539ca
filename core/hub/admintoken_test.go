package hub

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"strings"
	"testing"

	"github.com/junctionhub/junction/core/config"
)

// startToken runs the admin-token step of a hub start on the data dir:
// the hash it would accept, and the token it would print.
func startToken(t *testing.T, s config.Settings, env map[string]string) ([32]byte, string) {
	t.Helper()
	st, err := openStore(context.Background(), s, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hash, tok, err := adminToken(context.Background(), st.KV(), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return hash, tok
}

func TestRotateAdminToken(t *testing.T) {
	ctx := context.Background()
	s := config.DefaultSettings()
	s.DataDir = t.TempDir()
	if _, err := RotateAdminToken(ctx, s, nil); err == nil || !strings.Contains(err.Error(), "holds no hub data") {
		t.Fatalf("rotate before any start: err = %v", err)
	}

	first, printed := startToken(t, s, nil)
	if printed == "" {
		t.Fatal("the first start printed no token")
	}
	tok, err := RotateAdminToken(ctx, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, "jct_") || tok == printed {
		t.Fatalf("rotated token %q (first %q)", tok, printed)
	}
	hash, again := startToken(t, s, nil)
	if again != "" || hash == first || hash != sha256.Sum256([]byte(tok)) {
		t.Errorf("after rotate the hub accepts the old token, or another, or prints one (%q)", again)
	}

	// A preset JUNCTION_ADMIN_TOKEN wins at start, silently, and stays.
	hash, printed = startToken(t, s, map[string]string{"JUNCTION_ADMIN_TOKEN": "preset"})
	if printed != "" || hash != sha256.Sum256([]byte("preset")) {
		t.Errorf("preset token: printed %q, hash of preset %v", printed, hash == sha256.Sum256([]byte("preset")))
	}
	if hash, _ = startToken(t, s, nil); hash != sha256.Sum256([]byte("preset")) {
		t.Error("the preset token did not stay the token after a start without it")
	}
}

// The running hub holds the store: rotating then must fail and say why,
// not wait or write behind its back.
func TestRotateAdminTokenRefusesAnOpenStore(t *testing.T) {
	s := config.DefaultSettings()
	s.DataDir = t.TempDir()
	st, err := openStore(context.Background(), s, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := RotateAdminToken(context.Background(), s, nil); err == nil || !strings.Contains(err.Error(), "stop the hub first") {
		t.Fatalf("rotate with the store open: err = %v", err)
	}
}
