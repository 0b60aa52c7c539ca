package registry

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// SignedMessage is the exact byte string a plugin signature covers. It binds
// the signature to the plugin's identity, its artifact and the capabilities
// it asks for, so none of them can be changed (a capability added, an
// artifact swapped) without breaking it:
//
//	junction-plugin-signature/v1\n
//	name=<name>\n
//	version=<version>\n
//	kind=<wasm|goplugin>\n
//	sha256=<artifact sha256, 64 lowercase hex digits>\n
//	http_hosts=<sorted, de-duplicated, comma-separated>\n
//	kv=<true|false>\n
//	secrets=<sorted, de-duplicated, comma-separated>\n
//
// The manifest's signature is base64 (standard, padded) of
// ed25519.Sign(privateKey, SignedMessage(m)). Description and the connector
// summary are informational and not signed.
func SignedMessage(m *Manifest) []byte {
	c := m.Capabilities.canonical()
	var b strings.Builder
	b.WriteString("junction-plugin-signature/v1\n")
	fmt.Fprintf(&b, "name=%s\nversion=%s\nkind=%s\nsha256=%s\n", m.Name, m.Version, m.Kind, m.Artifact.SHA256)
	fmt.Fprintf(&b, "http_hosts=%s\nkv=%t\nsecrets=%s\n", strings.Join(c.HTTPHosts, ","), c.KV, strings.Join(c.Secrets, ","))
	return []byte(b.String())
}

// Sign signs the built plugin in dir (a manifest with its artifact, as
// `junction plugin build` writes it) and rewrites the manifest with the
// signature. It checks the artifact's checksum first, so it never signs a
// manifest that does not match its file.
func Sign(priv ed25519.PrivateKey, dir string) (*Manifest, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("sign plugin %s: private key has %d bytes, want %d", dir, len(priv), ed25519.PrivateKeySize)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, fmt.Errorf("sign plugin: %w", err)
	}
	if err := m.checkArtifact(); err != nil {
		return nil, fmt.Errorf("sign plugin %s: %w", m.Ref(), err)
	}
	if err := verifyChecksum(m, filepath.Join(dir, m.Artifact.File)); err != nil {
		return nil, fmt.Errorf("sign plugin %s: %w", m.Ref(), err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, SignedMessage(m)))
	if err := WriteManifest(dir, m); err != nil {
		return nil, fmt.Errorf("sign plugin: %w", err)
	}
	return m, nil
}

// verifySignature returns the trusted key that signed m.
func verifySignature(m *Manifest, trusted []ed25519.PublicKey) (ed25519.PublicKey, error) {
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("signature of %s is not a base64 ed25519 signature", m.Ref())
	}
	msg := SignedMessage(m)
	for _, k := range trusted {
		if ed25519.Verify(k, msg, sig) {
			return k, nil
		}
	}
	return nil, fmt.Errorf("signature of %s does not verify with any of the %d trusted keys (signed by another key, or the manifest or artifact was changed after signing)", m.Ref(), len(trusted))
}

// ParsePublicKey reads a base64 ed25519 public key (trusted_keys in
// Settings), with or without an "ed25519:" prefix.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(s), "ed25519:"))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("trusted key %q: want a base64 ed25519 public key (%d bytes)", s, ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(raw), nil
}

// ReadPrivateKey reads a key file written by WritePrivateKey: the base64 of
// a 32-byte seed or a 64-byte private key.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read signing key: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("signing key %s: not base64: %w", path, err)
	}
	switch len(raw) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(raw), nil
	case ed25519.PrivateKeySize:
		return ed25519.PrivateKey(raw), nil
	}
	return nil, fmt.Errorf("signing key %s: %d bytes, want a %d-byte seed or a %d-byte private key", path, len(raw), ed25519.SeedSize, ed25519.PrivateKeySize)
}

// WritePrivateKey writes priv's seed, base64, readable by the owner only. It
// refuses to overwrite an existing file.
func WritePrivateKey(path string, priv ed25519.PrivateKey) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write signing key: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(priv.Seed()) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(fmt.Errorf("write signing key %s: %w", path, err), os.Remove(path))
	}
	return nil
}

// EncodePublicKey renders pub as Settings' trusted_keys expects it.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}
