package goplugin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/rpc"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The direct path. go-plugin multiplexes every stream over one yamux
// session, and each message then crosses a send-loop goroutine and a
// receive-loop goroutine in both processes: on the 2-core development VM a
// call costs ~130 µs that way, against ~48 µs for the same net/rpc call on a
// plain Unix socket (whose raw round trip is ~25 µs there). So after the
// connector is dispensed, the host asks the plugin for a direct endpoint (a
// Unix socket in a fresh 0700 directory, plus a random token learned only
// over go-plugin's own connection) and moves connector calls and host
// services onto connections it dials there. go-plugin still starts,
// handshakes, pings and stops the process. If the plugin cannot listen, the
// host stays on the multiplexed path.

// Kinds of direct connection, sent after the token.
const (
	directCalls = 'C' // the host calls the connector
	directHost  = 'H' // the plugin calls the host services of one Configure
)

const tokenSize = 32

// EndpointReply tells the host where to dial.
type EndpointReply struct {
	Network, Address string
	Token            []byte
}

// endpoint is the plugin side: a listener that accepts the host's
// connections, checks the token, and routes each by kind.
type endpoint struct {
	once  sync.Once
	err   error
	dir   string
	ln    net.Listener
	token []byte
	calls *rpc.Server

	mu    sync.Mutex
	hosts map[uint32]chan net.Conn // host-service connections by ID
}

// start listens, once; calls serves the connector on connections of kind C.
func (e *endpoint) start(calls *rpc.Server) (*EndpointReply, error) {
	e.once.Do(func() {
		e.calls = calls
		e.hosts = map[uint32]chan net.Conn{}
		e.token = make([]byte, tokenSize)
		if _, e.err = rand.Read(e.token); e.err != nil {
			return
		}
		// A short name: Unix socket paths are limited to ~104 bytes.
		if e.dir, e.err = os.MkdirTemp("", "jd-"); e.err != nil {
			return
		}
		if e.ln, e.err = net.Listen("unix", filepath.Join(e.dir, "s")); e.err != nil {
			_ = os.RemoveAll(e.dir)
			return
		}
		go e.accept()
	})
	if e.err != nil {
		return nil, e.err
	}
	return &EndpointReply{Network: "unix", Address: e.ln.Addr().String(), Token: e.token}, nil
}

func (e *endpoint) accept() {
	for {
		conn, err := e.ln.Accept()
		if err != nil {
			return // closed at exit
		}
		go e.route(conn)
	}
}

// route checks a new connection's header and hands it to its user.
func (e *endpoint) route(conn net.Conn) {
	hdr := make([]byte, tokenSize+1+4)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(conn, hdr); err != nil || subtle.ConstantTimeCompare(hdr[:tokenSize], e.token) != 1 {
		_ = conn.Close()
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	if _, err := conn.Write([]byte{'k'}); err != nil {
		_ = conn.Close()
		return
	}
	switch hdr[tokenSize] {
	case directCalls:
		e.calls.ServeConn(conn)
	case directHost:
		e.hostConn(binary.LittleEndian.Uint32(hdr[tokenSize+1:])) <- conn
	default:
		_ = conn.Close()
	}
}

func (e *endpoint) hostConn(id uint32) chan net.Conn {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch, ok := e.hosts[id]
	if !ok {
		ch = make(chan net.Conn, 1)
		e.hosts[id] = ch
	}
	return ch
}

// takeHost waits for the host-service connection id, which the host dials
// before it sends the Configure naming it.
func (e *endpoint) takeHost(id uint32) (net.Conn, error) {
	ch := e.hostConn(id)
	defer func() {
		e.mu.Lock()
		delete(e.hosts, id)
		e.mu.Unlock()
	}()
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case c := <-ch:
		return c, nil
	case <-t.C:
		return nil, fmt.Errorf("host services connection %d did not arrive", id)
	}
}

// close stops listening and removes the socket's directory.
func (e *endpoint) close() {
	if e.ln != nil {
		_ = e.ln.Close()
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}

// dialDirect is the host side: it dials ep and sends the header.
func dialDirect(ep *EndpointReply, kind byte, id uint32) (net.Conn, error) {
	conn, err := net.DialTimeout(ep.Network, ep.Address, 5*time.Second)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, 0, tokenSize+1+4)
	hdr = append(hdr, ep.Token...)
	hdr = append(hdr, kind)
	hdr = binary.LittleEndian.AppendUint32(hdr, id)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	ack := make([]byte, 1)
	if _, err := conn.Write(hdr); err == nil {
		_, err = io.ReadFull(conn, ack)
	}
	if err != nil || ack[0] != 'k' {
		_ = conn.Close()
		return nil, errors.Join(errors.New("direct connection refused"), err)
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, nil
}

// logf reports fallbacks on the plugin's stderr, which go-plugin forwards
// to the host log.
func logf(format string, args ...any) { log.Printf(format, args...) }
