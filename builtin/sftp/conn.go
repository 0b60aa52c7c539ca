package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/junctionhub/junction/builtin/internal/records/fileimport"
	"github.com/junctionhub/junction/pluginsdk"
)

// session is one SSH connection with its SFTP client.
type session struct {
	nc   net.Conn
	ssh  *ssh.Client
	sftp *sftp.Client
}

func (s *session) close() {
	_ = s.sftp.Close()
	_ = s.ssh.Close()
	_ = s.nc.Close()
}

// current returns the live session, dialing one when there is none: the
// first call after a failure reconnects.
func (c *Connector) current(ctx context.Context) (*session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, pluginsdk.Errorf("%s: connector closed", c.where())
	}
	if c.sess != nil {
		return c.sess, nil
	}
	sess, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.sess = sess
	return sess, nil
}

// drop closes sess and forgets it if it is still the live session.
func (c *Connector) drop(sess *session) {
	c.mu.Lock()
	if c.sess == sess {
		c.sess = nil
	}
	c.mu.Unlock()
	sess.close()
}

func (c *Connector) where() string { return "sftp host " + c.set.addr }

// do runs op on the live session. pkg/sftp calls take no context, so the
// context's end closes the connection under op; a connection that failed is
// dropped, and the next call dials again.
func (c *Connector) do(ctx context.Context, op func(*session) error) error {
	if err := ctx.Err(); err != nil {
		return pluginsdk.Retryable("%s: %v", c.where(), err)
	}
	sess, err := c.current(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.drop(sess) })
	err = op(sess)
	if !stop() {
		return pluginsdk.Retryable("%s: %v", c.where(), context.Cause(ctx))
	}
	if err != nil && !answered(err) {
		c.drop(sess)
		return pluginsdk.Retryable("%s: connection lost (the next call reconnects): %v", c.where(), err)
	}
	return err
}

// answered reports whether err is the server's answer to a request (no
// such file, permission denied...) or a finding of the operation itself,
// rather than a failed connection. An operation passed to do returns the
// transport's errors unwrapped, so that this can tell them apart.
func answered(err error) bool {
	var se *sftp.StatusError
	var pe *pluginsdk.Error
	return errors.As(err, &se) || errors.As(err, &pe) || errors.Is(err, fs.ErrNotExist) ||
		errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrExist) || errors.Is(err, io.EOF) ||
		errors.Is(err, fileimport.ErrGone) || errors.Is(err, fileimport.ErrChanged)
}

// dial connects, verifies the host key and logs in.
func (c *Connector) dial(ctx context.Context) (*session, error) {
	d := net.Dialer{Timeout: c.set.timeout}
	return c.dialWith(ctx, func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) })
}

// dialWith is dial over connections opened by dialTCP (the doctor's probe
// dials through the connection's network rules).
func (c *Connector) dialWith(ctx context.Context, dialTCP func(ctx context.Context, addr string) (net.Conn, error)) (*session, error) {
	s := c.set
	hostKey, algos, err := s.hostKeyCheck()
	if err != nil {
		return nil, err
	}
	var methods []ssh.AuthMethod
	var tried []string
	if s.key != "" {
		signer, err := parseKey(s.key, s.passphrase)
		if err != nil {
			return nil, pluginsdk.Errorf("%s: config.private_key: %v", c.where(), err)
		}
		methods = append(methods, ssh.PublicKeys(signer))
		tried = append(tried, "private key "+ssh.FingerprintSHA256(signer.PublicKey()))
	}
	if s.password != "" {
		pw := s.password
		methods = append(methods, ssh.Password(pw),
			// Servers with PasswordAuthentication off often still take the
			// password as a keyboard-interactive answer.
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
		tried = append(tried, "password")
	}
	cfg := &ssh.ClientConfig{
		User: s.user, Auth: methods, HostKeyCallback: hostKey, HostKeyAlgorithms: algos,
		Timeout: s.timeout, ClientVersion: "SSH-2.0-Junction",
	}
	nc, err := dialTCP(ctx, s.addr)
	if err != nil {
		return nil, pluginsdk.Retryable("%s: connect: %v", c.where(), err)
	}
	deadline := time.Now().Add(s.timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = nc.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = nc.Close() })
	sc, chans, reqs, err := ssh.NewClientConn(nc, s.addr, cfg)
	if !stop() {
		_ = nc.Close()
		return nil, pluginsdk.Retryable("%s: connect: %v", c.where(), context.Cause(ctx))
	}
	if err != nil {
		_ = nc.Close()
		var pe *pluginsdk.Error
		switch {
		case errors.As(err, &pe): // the host key check's own message
			return nil, pe
		case strings.Contains(err.Error(), "unable to authenticate"):
			return nil, pluginsdk.Errorf("%s: authentication failed for user %q: the server refused the %s", c.where(), s.user,
				strings.Join(tried, " and the "))
		}
		return nil, pluginsdk.Retryable("%s: ssh handshake: %v", c.where(), err)
	}
	_ = nc.SetDeadline(time.Time{})
	client := ssh.NewClient(sc, chans, reqs)
	sc2, err := sftp.NewClient(client)
	if err != nil {
		_ = client.Close()
		return nil, pluginsdk.Retryable("%s: start the sftp subsystem: %v", c.where(), err)
	}
	c.log.Debug("connected", "host", s.addr, "user", s.user)
	return &session{nc: nc, ssh: client, sftp: sc2}, nil
}

// describe turns a server's answer into a message, permanent unless the
// server may answer otherwise later.
func (c *Connector) describe(err error, format string, args ...any) *pluginsdk.Error {
	what := fmt.Sprintf(format, args...)
	var pe *pluginsdk.Error
	switch {
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, fs.ErrNotExist):
		return pluginsdk.Errorf("%s: %s: no such file or directory", c.where(), what)
	case errors.Is(err, fs.ErrPermission):
		return pluginsdk.Errorf("%s: %s: permission denied for user %q", c.where(), what, c.set.user)
	}
	return pluginsdk.Retryable("%s: %s: %v", c.where(), what, err)
}
