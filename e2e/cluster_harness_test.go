package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsNodeBinary builds e2e/cmd/natsnode once per test binary.
func natsNodeBinary(t *testing.T) string { return goBinary(t, "./cmd/natsnode", "natsnode") }

// natsProc is one natsnode process.
type natsProc struct {
	Name string
	URL  string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

// kill sends SIGKILL and waits for the process to go.
func (n *natsProc) kill() {
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	err := <-n.done
	n.done <- err
}

// stop sends SIGTERM and waits (SIGKILL after 30 s).
func (n *natsProc) stop() {
	select {
	case err := <-n.done:
		n.done <- err
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.done:
		n.done <- err
	case <-time.After(30 * time.Second):
		n.kill()
	}
}

// cluster is three natsnode processes forming one JetStream cluster and
// three junction processes sharing one R3 stream on it, each with its own
// data dir, address and node name (j1, j2, j3) and the same secret key.
type cluster struct {
	t       *testing.T
	NATS    []*natsProc
	Hubs    []*hubProc
	Nodes   []string // node names, by index of Hubs
	NATSURL string
	env     map[string]string
	configs string
}

// startCluster writes the Settings of a jetstream store into configs and
// starts the cluster. env is given to every junction node, and what each
// nodeEnv returns for a node's name to that node alone.
func startCluster(t *testing.T, configs string, env map[string]string, nodeEnv ...func(node string) map[string]string) *cluster {
	t.Helper()
	c := &cluster{t: t, configs: configs, env: map[string]string{}}
	for k, v := range env {
		c.env[k] = v
	}
	c.env["JUNCTION_SECRET_KEY"] = strings.Repeat("5e", 32)
	if c.env["JUNCTION_WORKERS"] == "" {
		c.env["JUNCTION_WORKERS"] = "64" // the default
	}
	c.startNATS(3)
	c.env["NATS_URL"] = c.NATSURL
	writeFile(t, filepath.Join(configs, "settings.yaml"), `apiVersion: junction/v1
kind: Settings
spec:
  workers: ${JUNCTION_WORKERS}
  store: {type: jetstream, url: '${NATS_URL}', replicas: 3, node: '${JUNCTION_NODE}'}
`)
	// One at a time: the first node creates the stream, the others find it.
	for i := range 3 {
		name := fmt.Sprintf("j%d", i+1)
		all := map[string]string{"JUNCTION_NODE": name}
		for k, v := range c.env {
			all[k] = v
		}
		for _, f := range nodeEnv {
			for k, v := range f(name) {
				all[k] = v
			}
		}
		c.Hubs = append(c.Hubs, startHub(t, configs, t.TempDir(), all, ""))
		c.Nodes = append(c.Nodes, name)
	}
	return c
}

// startNATS starts n natsnode processes routed to each other and waits
// until JetStream has a meta leader.
func (c *cluster) startNATS(n int) {
	t := c.t
	t.Helper()
	bin := natsNodeBinary(t)
	clientAddrs := make([]string, n)
	routes := make([]string, n)
	clusterAddrs := make([]string, n)
	for i := range n {
		clientAddrs[i] = freeAddr(t)
		clusterAddrs[i] = freeAddr(t)
		routes[i] = "nats://" + clusterAddrs[i]
	}
	var urls []string
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		_, port, _ := strings.Cut(clientAddrs[i], ":")
		_, cport, _ := strings.Cut(clusterAddrs[i], ":")
		cmd := exec.Command(bin, "-name", name, "-port", port, "-store", t.TempDir(),
			"-cluster", "junction-e2e", "-cluster-port", cport, "-routes", strings.Join(routes, ","))
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &natsProc{Name: name, URL: "nats://" + clientAddrs[i], cmd: cmd, out: out, done: make(chan error, 1)}
		go func() { p.done <- cmd.Wait() }()
		t.Cleanup(p.stop)
		c.NATS = append(c.NATS, p)
		urls = append(urls, p.URL)
	}
	c.NATSURL = strings.Join(urls, ",")
	var last error
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if last = c.jetStreamReady(); last == nil {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range c.NATS {
		t.Logf("%s:\n%s", p.Name, lastLines(p.out.String(), 20))
	}
	t.Fatalf("the NATS cluster has no JetStream meta leader after 90s: %v", last)
}

// jetStreamReady answers nil once the cluster serves JetStream requests,
// which needs a meta leader.
func (c *cluster) jetStreamReady() error {
	nc, js, err := c.client()
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

// client connects to the NATS cluster (any live server).
func (c *cluster) client() (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(c.NATSURL, nats.Timeout(5*time.Second), nats.MaxReconnects(-1))
	if err != nil {
		return nil, nil, fmt.Errorf("connect %s: %w", c.NATSURL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}
	return nc, js, nil
}

// streamLeader names the NATS server leading the store's stream.
func (c *cluster) streamLeader() (string, error) {
	nc, js, err := c.client()
	if err != nil {
		return "", err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, "JUNCTION")
	if err != nil {
		return "", fmt.Errorf("stream JUNCTION: %w", err)
	}
	info := s.CachedInfo()
	if info.Cluster == nil || info.Cluster.Leader == "" {
		return "", fmt.Errorf("stream JUNCTION has no leader")
	}
	return info.Cluster.Leader, nil
}

// killNATS kill -9s the NATS server named name.
func (c *cluster) killNATS(name string) {
	c.t.Helper()
	for _, p := range c.NATS {
		if p.Name == name {
			p.kill()
			return
		}
	}
	c.t.Fatalf("no NATS server %q", name)
}

// killHub kill -9s junction node i.
func (c *cluster) killHub(i int) { c.Hubs[i].Kill() }

// nodeOfPID names the junction node whose process id is pid.
func (c *cluster) nodeOfPID(pid int) string {
	for i, h := range c.Hubs {
		if h.cmd.Process.Pid == pid {
			return c.Nodes[i]
		}
	}
	return ""
}

// logs attaches the end of every process's output to a failed test.
func (c *cluster) logs() {
	c.t.Helper()
	c.saveLogs()
	if !c.t.Failed() {
		return
	}
	for _, p := range c.NATS {
		c.t.Logf("NATS %s:\n%s", p.Name, lastLines(p.out.String(), 15))
	}
	for i, h := range c.Hubs {
		c.t.Logf("junction %s:\n%s", c.Nodes[i], lastLines(h.out.String(), 15))
	}
}

// listRuns pages through /runs like allRuns, but returns an error instead
// of failing the test: while a NATS server is being replaced a node may
// answer a read with an error, and a wait should look again.
func listRuns(h *hubProc, q url.Values) ([]runView, error) {
	var out []runView
	q.Set("limit", "500")
	client := &http.Client{Timeout: 30 * time.Second}
	for {
		req, _ := http.NewRequest("GET", h.URL+"/api/v1/runs?"+q.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+h.Token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		var page struct {
			Runs []runView `json:"runs"`
			Next string    `json:"next"`
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("list runs: HTTP %d %s %v", resp.StatusCode, data, err)
		}
		if err := json.Unmarshal(data, &page); err != nil {
			return nil, fmt.Errorf("list runs: decode: %w", err)
		}
		out = append(out, page.Runs...)
		if page.Next == "" {
			return out, nil
		}
		q.Set("after", page.Next)
	}
}
