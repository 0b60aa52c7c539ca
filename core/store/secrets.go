package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SecretKeyEnv names the environment variable holding the secrets key.
const SecretKeyEnv = "JUNCTION_SECRET_KEY"

// SecretKeyFile is the key file's name inside the data directory.
const SecretKeyFile = "secret.key"

// SecretKeySize is the size of an AES-256 key.
const SecretKeySize = 32

// LoadSecretKey returns the key for secrets at rest: JUNCTION_SECRET_KEY
// when set and not empty (64 hex digits or the base64 of 32 bytes; anything
// else is an error), else the key in
// <dir>/secret.key, which is created (mode 0600) on first use. A key file
// that group or others may read is refused rather than trusted.
func LoadSecretKey(dir string) ([]byte, error) {
	if s := os.Getenv(SecretKeyEnv); s != "" {
		return parseSecretKey(s)
	}
	return loadKeyFile(filepath.Join(dir, SecretKeyFile))
}

func parseSecretKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*SecretKeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == SecretKeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%s: want 64 hex digits or the base64 of %d bytes", SecretKeyEnv, SecretKeySize)
}

func loadKeyFile(path string) ([]byte, error) {
	k, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	k = make([]byte, SecretKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create secret key %s: %w", path, err)
	}
	// O_EXCL: when two processes race to create the key, one wins and the
	// other reads the winner's key.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret key %s: %w", path, err)
	}
	_, werr := f.WriteString(hex.EncodeToString(k) + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return nil, fmt.Errorf("write secret key %s: %w", path, werr)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // make the new directory entry durable too
		_ = d.Close()
	}
	return k, nil
}

func readKeyFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key %s: mode %04o lets group or others read it; run chmod 600 on it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret key %s: %w", path, err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != SecretKeySize {
		return nil, fmt.Errorf("secret key %s: want 64 hex digits", path)
	}
	return k, nil
}

// secretKeyFor picks the store's key: Options.SecretKey, else LoadSecretKey;
// an in-memory store without either gets a random key of its own.
func secretKeyFor(dir string, opts Options) ([]byte, error) {
	if opts.SecretKey != nil {
		if len(opts.SecretKey) != SecretKeySize {
			return nil, fmt.Errorf("secret key: %d bytes, want %d", len(opts.SecretKey), SecretKeySize)
		}
		return append([]byte(nil), opts.SecretKey...), nil
	}
	if opts.InMemory {
		if os.Getenv(SecretKeyEnv) == "" {
			k := make([]byte, SecretKeySize)
			if _, err := rand.Read(k); err != nil {
				return nil, fmt.Errorf("generate secret key: %w", err)
			}
			return k, nil
		}
	}
	return LoadSecretKey(dir)
}

// sealVersion prefixes every sealed value so the format can change.
const sealVersion = 1

// EncryptSecret seals plaintext with AES-256-GCM under a fresh random nonce:
// version byte, nonce, ciphertext and tag.
func EncryptSecret(key, plaintext []byte) ([]byte, error) {
	return seal(key, plaintext, nil)
}

// DecryptSecret opens what EncryptSecret sealed. It fails on a wrong key or
// any altered byte.
func DecryptSecret(key, sealed []byte) ([]byte, error) {
	return unseal(key, sealed, nil)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("secret key: %d bytes, want %d", len(key), SecretKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(key, plaintext, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, fmt.Errorf("encrypt secret: %w", err)
	}
	out := make([]byte, 1+gcm.NonceSize(), 1+gcm.NonceSize()+len(plaintext)+gcm.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("encrypt secret: nonce: %w", err)
	}
	return gcm.Seal(out, out[1:], plaintext, aad), nil
}

func unseal(key, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, fmt.Errorf("decrypt secret: %w", err)
	}
	if len(sealed) < 1+gcm.NonceSize()+gcm.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("decrypt secret: malformed value")
	}
	nonce := sealed[1 : 1+gcm.NonceSize()]
	pt, err := gcm.Open(nil, nonce, sealed[1+gcm.NonceSize():], aad)
	if err != nil {
		return nil, fmt.Errorf("decrypt secret (wrong key or altered value): %w", err)
	}
	return pt, nil
}

type badgerSecrets Badger

// The secret's name is the additional data of its encryption, so a value
// copied under another name does not decrypt.
func secretAAD(name string) []byte { return []byte(prefixSecret + name) }

// Put implements Secrets.
func (s *badgerSecrets) Put(ctx context.Context, name string, value []byte) error {
	sealed, err := seal(s.key, value, secretAAD(name))
	if err != nil {
		return fmt.Errorf("put secret %q: %w", name, err)
	}
	e, err := newKVEntry(prefixSecret, name, sealed, 0)
	if err == nil {
		_, err = (*Badger)(s).writeKey(ctx, e, false)
	}
	if err != nil {
		return fmt.Errorf("put secret %q: %w", name, err)
	}
	return nil
}

// Get implements Secrets.
func (s *badgerSecrets) Get(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sealed, err := (*Badger)(s).getKey([]byte(prefixSecret + name))
	if err != nil {
		return nil, fmt.Errorf("get secret %q: %w", name, err)
	}
	v, err := unseal(s.key, sealed, secretAAD(name))
	if err != nil {
		return nil, fmt.Errorf("get secret %q: %w", name, err)
	}
	return v, nil
}

// Delete implements Secrets. Deleting an absent secret is not an error.
func (s *badgerSecrets) Delete(ctx context.Context, name string) error {
	e, err := newKVEntry(prefixSecret, name, nil, 0)
	if err == nil {
		_, err = (*Badger)(s).writeKey(ctx, e, false)
	}
	if err != nil {
		return fmt.Errorf("delete secret %q: %w", name, err)
	}
	return nil
}
