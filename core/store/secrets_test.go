package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestSecretsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(context.Background(), dir, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	values := map[string][]byte{"segment": []byte("s3cr3t"), "empty": {}, "binary": {0, 1, 2, 255}}
	for name, v := range values {
		if err := s.Secrets().Put(ctx, name, v); err != nil {
			t.Fatal(err)
		}
	}
	for name, v := range values {
		got, err := s.Secrets().Get(ctx, name)
		if err != nil || !bytes.Equal(got, v) {
			t.Errorf("Get(%s) = %q, %v; want %q", name, got, err, v)
		}
	}
	// At rest the value is not in clear; moved under another name, it does
	// not decrypt.
	if err := s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(prefixSecret + "segment"))
		if err != nil {
			return err
		}
		raw, _ := item.ValueCopy(nil)
		if bytes.Contains(raw, []byte("s3cr3t")) {
			t.Error("secret stored in clear")
		}
		return txn.Set([]byte(prefixSecret+"moved"), raw)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secrets().Get(ctx, "moved"); err == nil {
		t.Error("a value copied under another name decrypted")
	}
	if err := s.Secrets().Delete(ctx, "segment"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secrets().Get(ctx, "segment"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopened with another key, the secrets do not decrypt.
	opts := testOptions()
	opts.SecretKey = bytes.Repeat([]byte{9}, SecretKeySize)
	s2 := openAt(t, dir, opts)
	if _, err := s2.Secrets().Get(ctx, "binary"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get with the wrong key: %v, want a decryption error", err)
	}
}

func TestEncryptSecret(t *testing.T) {
	key := bytes.Repeat([]byte{1}, SecretKeySize)
	a, err := EncryptSecret(key, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := EncryptSecret(key, []byte("hello"))
	if bytes.Equal(a, b) {
		t.Error("two encryptions of one value are equal: the nonce is not random")
	}
	if pt, err := DecryptSecret(key, a); err != nil || string(pt) != "hello" {
		t.Errorf("DecryptSecret = %q, %v", pt, err)
	}
	tampered := bytes.Clone(a)
	tampered[len(tampered)-1] ^= 1
	wrong := bytes.Repeat([]byte{2}, SecretKeySize)
	for name, tc := range map[string]struct{ key, sealed []byte }{
		"wrong key":   {wrong, a},
		"tampered":    {key, tampered},
		"truncated":   {key, a[:10]},
		"short key":   {key[:16], a},
		"empty input": {key, nil},
	} {
		if _, err := DecryptSecret(tc.key, tc.sealed); err == nil {
			t.Errorf("%s: DecryptSecret succeeded", name)
		}
	}
	if _, err := EncryptSecret(key[:31], []byte("x")); err == nil {
		t.Error("EncryptSecret with a 31-byte key succeeded")
	}
}

func TestLoadSecretKeyFile(t *testing.T) {
	t.Setenv(SecretKeyEnv, "")
	os.Unsetenv(SecretKeyEnv)
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadSecretKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, SecretKeyFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %04o, want 0600", st.Mode().Perm())
	}
	k2, err := LoadSecretKey(dir)
	if err != nil || !bytes.Equal(k1, k2) || len(k1) != SecretKeySize {
		t.Fatalf("second load = %x, %v; want the first key %x", k2, err, k1)
	}

	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecretKey(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key file: %v, want a refusal naming chmod 600", err)
	}
	// Open refuses the store too, and uses a fresh key file where all is well.
	noKey := testOptions()
	noKey.SecretKey = nil
	if s, err := Open(context.Background(), dir, noKey); err == nil {
		s.Close()
		t.Error("Open with a world-readable key file succeeded")
	}
	fresh := t.TempDir()
	openAt(t, fresh, noKey)
	if _, err := os.Stat(filepath.Join(fresh, SecretKeyFile)); err != nil {
		t.Errorf("Open did not create a key file: %v", err)
	}

	if err := os.WriteFile(path, []byte("not hex"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecretKey(dir); err == nil {
		t.Error("malformed key file accepted")
	}
}

func TestLoadSecretKeyEnv(t *testing.T) {
	key := bytes.Repeat([]byte{0xab}, SecretKeySize)
	tests := []struct {
		name, env string
		ok        bool
	}{
		{"hex", hex.EncodeToString(key), true},
		{"hex with newline", hex.EncodeToString(key) + "\n", true},
		{"base64", base64.StdEncoding.EncodeToString(key), true},
		{"raw url base64", base64.RawURLEncoding.EncodeToString(key), true},
		{"short hex", hex.EncodeToString(key[:16]), false},
		{"base64 of 31 bytes", base64.StdEncoding.EncodeToString(key[:31]), false},
		{"garbage", "correct horse battery staple", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(SecretKeyEnv, tt.env)
			dir := t.TempDir()
			got, err := LoadSecretKey(dir)
			if tt.ok {
				if err != nil || !bytes.Equal(got, key) {
					t.Errorf("LoadSecretKey = %x, %v; want %x", got, err, key)
				}
			} else if err == nil || !strings.Contains(err.Error(), SecretKeyEnv) {
				t.Errorf("LoadSecretKey error = %v, want one naming %s", err, SecretKeyEnv)
			}
			// The environment wins: no key file is created.
			if _, err := os.Stat(filepath.Join(dir, SecretKeyFile)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("key file created although %s is set", SecretKeyEnv)
			}
		})
	}
}

func TestLoadSecretKeyEmptyEnv(t *testing.T) {
	// An empty variable (a compose file's ${JUNCTION_SECRET_KEY:-}) counts as
	// unset: the key file is used.
	t.Setenv(SecretKeyEnv, "")
	dir := t.TempDir()
	if _, err := LoadSecretKey(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, SecretKeyFile)); err != nil {
		t.Errorf("no key file: %v", err)
	}
}

func TestOpenRejectsBadSecretKey(t *testing.T) {
	opts := testOptions()
	opts.SecretKey = []byte("short")
	if _, err := Open(context.Background(), t.TempDir(), opts); err == nil {
		t.Error("Open with a 5-byte secret key succeeded")
	}
}
