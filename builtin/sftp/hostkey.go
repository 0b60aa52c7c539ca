package sftp

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/junctionhub/junction/pluginsdk"
)

// knownHost is one known_hosts entry.
type knownHost struct {
	marker   string // "", "revoked" or "cert-authority"
	patterns []string
	key      ssh.PublicKey
}

// parseKnownHosts reads known_hosts lines (comments and blank lines
// skipped).
func parseKnownHosts(b []byte) ([]knownHost, error) {
	var out []knownHost
	rest := b
	for n := 1; len(bytes.TrimSpace(rest)) > 0; n++ {
		marker, hosts, key, _, r, err := ssh.ParseKnownHosts(rest)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", n, err)
		}
		out = append(out, knownHost{marker: marker, patterns: hosts, key: key})
		rest = r
	}
	if len(out) == 0 {
		return nil, errors.New("no host key entries")
	}
	return out, nil
}

// matches reports whether the entry names host (knownhosts.Normalize form:
// "name" on port 22, "[name]:port" otherwise), with OpenSSH's rules:
// hashed names, * and ? wildcards, !negation.
func (k knownHost) matches(host string) bool {
	hit := false
	for _, p := range k.patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		var m bool
		if strings.HasPrefix(p, "|1|") {
			m = hashedMatch(p, host)
		} else {
			m = wildcardMatch(p, host)
		}
		if m && neg {
			return false
		}
		hit = hit || m
	}
	return hit
}

func hashedMatch(p, host string) bool {
	parts := strings.Split(p, "|") // "", "1", salt, hash
	if len(parts) != 4 {
		return false
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[2])
	want, err2 := base64.StdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(host))
	return hmac.Equal(mac.Sum(nil), want)
}

// wildcardMatch matches * (any run) and ? (one byte); brackets are literal,
// as in "[host]:2222".
func wildcardMatch(p, s string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if wildcardMatch(p[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if len(s) == 0 {
				return false
			}
		default:
			if len(s) == 0 || !strings.EqualFold(p[:1], s[:1]) {
				return false
			}
		}
		p, s = p[1:], s[1:]
	}
	return len(s) == 0
}

// hostKeyCheck returns the callback verifying the server's host key, and
// the key algorithms to ask the server for (those known_hosts has for it,
// so that a server holding several keys offers one we can check).
func (s settings) hostKeyCheck() (ssh.HostKeyCallback, []string, error) {
	if s.pin != "" {
		return func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if got := ssh.FingerprintSHA256(key); got != s.pin {
				return pluginsdk.Errorf("sftp host %s: host key mismatch: server offered %s, expected %s", s.addr, got, s.pin)
			}
			return nil
		}, nil, nil
	}
	data := []byte(s.knownHosts)
	source := "config.known_hosts"
	if !isInlineKnownHosts(s.knownHosts) {
		b, err := os.ReadFile(s.knownHosts)
		if err != nil {
			return nil, nil, pluginsdk.Errorf("sftp host %s: read known_hosts: %v", s.addr, err)
		}
		data, source = b, s.knownHosts
	}
	entries, err := parseKnownHosts(data)
	if err != nil {
		return nil, nil, pluginsdk.Errorf("sftp host %s: %s: %v", s.addr, source, err)
	}
	host := knownhosts.Normalize(s.addr)
	var want []ssh.PublicKey
	var algos []string
	for _, e := range entries {
		if e.marker == "" && e.matches(host) {
			want = append(want, e.key)
			algos = append(algos, algorithmsFor(e.key.Type())...)
		}
	}
	cb := func(_ string, _ net.Addr, key ssh.PublicKey) error {
		for _, e := range entries {
			if e.marker == "revoked" && bytes.Equal(e.key.Marshal(), key.Marshal()) {
				return pluginsdk.Errorf("sftp host %s: host key %s is marked @revoked in %s", s.addr, ssh.FingerprintSHA256(key), source)
			}
		}
		if len(want) == 0 {
			return pluginsdk.Errorf("sftp host %s: no entry for %s in %s (server offered %s %s; check it, then add the line `ssh-keyscan -p PORT HOST` prints)",
				s.addr, host, source, key.Type(), ssh.FingerprintSHA256(key))
		}
		fps := make([]string, len(want))
		for i, w := range want {
			if bytes.Equal(w.Marshal(), key.Marshal()) {
				return nil
			}
			fps[i] = ssh.FingerprintSHA256(w)
		}
		return pluginsdk.Errorf("sftp host %s: host key mismatch: server offered %s, expected %s", s.addr,
			ssh.FingerprintSHA256(key), strings.Join(fps, " or "))
	}
	return cb, algos, nil
}

// algorithmsFor lists the host key algorithms that verify a key type.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// parseKey reads a private key, with its passphrase when encrypted.
func parseKey(pemKey, passphrase string) (ssh.Signer, error) {
	if passphrase != "" {
		return ssh.ParsePrivateKeyWithPassphrase([]byte(pemKey), []byte(passphrase))
	}
	signer, err := ssh.ParsePrivateKey([]byte(pemKey))
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, errors.New("the key is encrypted; set config.passphrase")
	}
	return signer, err
}
