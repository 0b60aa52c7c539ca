// Package sftptest runs a real SFTP server on 127.0.0.1 for tests: an
// x/crypto/ssh server with a generated host key, password and public-key
// authentication, and pkg/sftp's request server over a directory. It can
// also serve generated files that exist on no disk (to import 1 GB without
// writing 1 GB), drop every connection on demand, and run a hook before
// each SFTP request (to drop a connection at an exact point of an import).
package sftptest

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Server is a running SFTP server. Its methods are safe for concurrent use.
type Server struct {
	// Addr is host:port of the listener.
	Addr string
	// Root is the local directory served as "/".
	Root string

	hostKey ssh.Signer
	ln      net.Listener
	wg      sync.WaitGroup

	mu       sync.Mutex
	users    map[string]string        // user → password
	keys     map[string]ssh.PublicKey // user → authorized key
	conns    map[net.Conn]bool
	virtual  map[string]*Virtual
	hook     func(method, path string) error
	requests map[string]int // by method
	accepted int
	closed   bool
}

// Start runs a server serving a new temporary directory until the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Addr: ln.Addr().String(), Root: t.TempDir(), hostKey: signer, ln: ln,
		users: map[string]string{}, keys: map[string]ssh.PublicKey{}, conns: map[net.Conn]bool{},
		virtual: map[string]*Virtual{}, requests: map[string]int{},
	}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// AddUser lets user log in with password.
func (s *Server) AddUser(user, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[user] = password
}

// AddKeyUser lets user log in with a new ed25519 key and returns the key as
// PEM, encrypted with passphrase when it is not empty.
func (s *Server) AddKeyUser(t testing.TB, user, passphrase string) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.keys[user] = sshPub
	s.mu.Unlock()
	return string(pem.EncodeToMemory(block))
}

// HostKey is the server's public host key.
func (s *Server) HostKey() ssh.PublicKey { return s.hostKey.PublicKey() }

// Fingerprint is the host key's SHA256 fingerprint ("SHA256:...").
func (s *Server) Fingerprint() string { return ssh.FingerprintSHA256(s.hostKey.PublicKey()) }

// KnownHostsLine is the server's line for a known_hosts file.
func (s *Server) KnownHostsLine() string {
	host, port, _ := net.SplitHostPort(s.Addr)
	return fmt.Sprintf("[%s]:%s %s", host, port, ssh.MarshalAuthorizedKey(s.hostKey.PublicKey()))
}

// Host and Port split Addr.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port is the listener's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// SetHook runs hook before each SFTP request (method: Get, Put, Open, Stat,
// List, Rename, PosixRename, Remove, Mkdir, ...; path as the client sent
// it). A non-nil error fails the request. The hook may call
// DropConnections.
func (s *Server) SetHook(hook func(method, path string) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
}

// Requests returns how many requests of method were served.
func (s *Server) Requests(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[method]
}

// Accepted is the number of connections accepted so far.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// DropConnections closes every client connection, as a network failure
// would, and returns how many it closed.
func (s *Server) DropConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		_ = c.Close()
		delete(s.conns, c)
		n++
	}
	return n
}

// Close stops the server, drops its connections and waits for its
// goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	_ = s.ln.Close()
	s.DropConnections()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.conns[nc] = true
		s.accepted++
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serve(nc)
	}
}

func (s *Server) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(m ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			s.mu.Lock()
			want, ok := s.users[m.User()]
			s.mu.Unlock()
			if ok && want == string(pw) {
				return nil, nil
			}
			return nil, errors.New("wrong password")
		},
		PublicKeyCallback: func(m ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			want, ok := s.keys[m.User()]
			s.mu.Unlock()
			if ok && string(want.Marshal()) == string(key.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	cfg.AddHostKey(s.hostKey)
	return cfg
}

func (s *Server) serve(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		_ = nc.Close()
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
	}()
	sc, chans, reqs, err := ssh.NewServerConn(nc, s.config())
	if err != nil {
		return
	}
	defer sc.Close()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ssh.DiscardRequests(reqs)
	}()
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nch.Accept()
		if err != nil {
			continue
		}
		s.wg.Add(1)
		go s.session(ch, chReqs)
	}
}

func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer s.wg.Done()
	defer ch.Close()
	for req := range reqs {
		ok := req.Type == "subsystem" && len(req.Payload) > 4 && string(req.Payload[4:]) == "sftp"
		_ = req.Reply(ok, nil)
		if !ok {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			// Keep draining requests so the channel does not block.
			for range reqs {
			}
		}()
		h := &handler{s: s}
		rs := sftp.NewRequestServer(ch, sftp.Handlers{FileGet: h, FilePut: h, FileCmd: h, FileList: h})
		if err := rs.Serve(); err != nil && !errors.Is(err, io.EOF) {
			_ = err // the client went away: nothing to report in a test server
		}
		_ = rs.Close()
		return
	}
}

// before runs the hook and counts the request.
func (s *Server) before(method, path string) error {
	s.mu.Lock()
	s.requests[method]++
	hook := s.hook
	s.mu.Unlock()
	if hook != nil {
		return hook(method, path)
	}
	return nil
}
