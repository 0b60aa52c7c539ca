// Package natstest runs embedded NATS servers with JetStream for tests: one
// node or a cluster on loopback ports, each node keeping its JetStream
// files in a directory of its own, so a test can shut the servers down
// and start them again on the same files. Only tests import it, so the
// server stays out of the junction binary.
package natstest

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Cluster is a set of running servers.
type Cluster struct {
	opts    []*server.Options
	Servers []*server.Server
}

// Options tune the servers.
type Options struct {
	// SyncAlways fsyncs every write (the file store's sync_always).
	SyncAlways bool
}

// Start starts n servers keeping their files under dir/n<i>; with n > 1
// they form one JetStream cluster.
func Start(t testing.TB, dir string, n int, o Options) *Cluster {
	t.Helper()
	c := &Cluster{}
	var routes []*url.URL
	clusterPorts := make([]int, n)
	if n > 1 {
		for i := range n {
			clusterPorts[i] = freePort(t)
			routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", clusterPorts[i])})
		}
	}
	for i := range n {
		opts := &server.Options{
			ServerName: fmt.Sprintf("n%d", i),
			Host:       "127.0.0.1",
			Port:       freePort(t), // fixed, so that a restart keeps the URL
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("n%d", i)),
			SyncAlways: o.SyncAlways,
			NoLog:      true,
			NoSigs:     true,
		}
		if n > 1 {
			opts.Cluster = server.ClusterOpts{Name: "junction-test", Host: "127.0.0.1", Port: clusterPorts[i]}
			opts.Routes = routes
		}
		c.opts = append(c.opts, opts)
	}
	c.start(t)
	return c
}

func (c *Cluster) start(t testing.TB) {
	t.Helper()
	c.Servers = nil
	for _, opts := range c.opts {
		cp := *opts
		s, err := server.NewServer(&cp)
		if err != nil {
			t.Fatalf("nats server: %v", err)
		}
		go s.Start()
		c.Servers = append(c.Servers, s)
	}
	for i, s := range c.Servers {
		if !s.ReadyForConnections(startWait) {
			t.Fatalf("nats server %s did not start within %s%s", s.Name(), startWait, portNote(c.opts[i].Host, c.opts[i].Port))
		}
	}
	if len(c.Servers) > 1 {
		c.waitMeta(t)
	}
}

// waitMeta waits until the cluster has elected a JetStream meta leader
// and every node has caught up with it, so that streams can be created.
func (c *Cluster) waitMeta(t testing.TB) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		leader, current := false, true
		for _, s := range c.Servers {
			leader = leader || s.JetStreamIsLeader()
			current = current && s.JetStreamIsCurrent()
		}
		if leader && current {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the nats cluster elected no JetStream leader")
}

// URL lists every server's client URL.
func (c *Cluster) URL() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for _, s := range c.Servers {
		s.Shutdown()
	}
	for _, s := range c.Servers {
		s.WaitForShutdown()
	}
}

// Restart stops every server and starts them again on the same files and
// ports.
func (c *Cluster) Restart(t testing.TB) {
	t.Helper()
	c.Shutdown()
	c.start(t)
}

// Stop stops server i alone (a node lost); Start it again with StartNode.
func (c *Cluster) Stop(i int) {
	c.Servers[i].Shutdown()
	c.Servers[i].WaitForShutdown()
}

// StartNode starts server i again on its files.
func (c *Cluster) StartNode(t testing.TB, i int) {
	t.Helper()
	cp := *c.opts[i]
	s, err := server.NewServer(&cp)
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(startWait) {
		t.Fatalf("nats server %s did not start within %s%s", s.Name(), startWait, portNote(cp.Host, cp.Port))
	}
	c.Servers[i] = s
}

// startWait bounds a server's start, JetStream recovery of its files
// included: generous, as a race-detector build on a loaded machine
// recovers slowly.
const startWait = 90 * time.Second

// portNote says whether the server's client port is taken by someone else
// (another test may have been handed the same free port).
func portNote(host string, port int) string {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return fmt.Sprintf(" (port %d is in use: %v)", port, err)
	}
	l.Close()
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
