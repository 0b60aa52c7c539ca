package pluginsync_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/junctionhub/junction/core/plugin/pluginsync"
	"github.com/junctionhub/junction/core/plugin/registry"
	js "github.com/junctionhub/junction/core/store/jetstream"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// wasmModule is the smallest valid Wasm module, plus a custom section that
// makes each test plugin's bytes (and so its sha256) its own.
func wasmModule(tag string) []byte {
	b := []byte("\x00asm\x01\x00\x00\x00")
	payload := append([]byte{byte(len("t"))}, 't')
	payload = append(payload, tag...)
	return append(append(b, 0, byte(len(payload))), payload...)
}

// built writes a built plugin directory (manifest and artifact), signed by
// priv unless it is nil.
func built(t *testing.T, name, version, tag string, priv ed25519.PrivateKey) string {
	t.Helper()
	dir := t.TempDir()
	art := wasmModule(tag)
	if err := os.WriteFile(filepath.Join(dir, name+".wasm"), art, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(art)
	m := &registry.Manifest{
		Name: name, Version: version, Kind: registry.KindWasm,
		Connector: registry.ConnectorSummary{Direction: "outbound", Roles: []string{"perform"}, Actions: []string{"greet"}},
		Artifact:  registry.Artifact{File: name + ".wasm", SHA256: hex.EncodeToString(sum[:])},
	}
	if err := registry.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	if priv != nil {
		if _, err := registry.Sign(priv, dir); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func key(t *testing.T) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// node is one Junction node's plugin registry, synced with the bucket.
type node struct {
	reg  *registry.Registry
	sync *pluginsync.Sync
}

func startNode(t *testing.T, b jetstream.ObjectStore, reg *registry.Registry, trust registry.InstallOptions) *node {
	t.Helper()
	if reg == nil {
		var err error
		if reg, err = registry.Open(t.TempDir()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := pluginsync.Start(ctx, pluginsync.Options{Registry: reg, Bucket: b, Install: trust, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return &node{reg: reg, sync: s}
}

// install installs dir on n and shares it, as `junction plugin install`
// does on a JetStream store.
func (n *node) install(t *testing.T, b jetstream.ObjectStore, dir string, trust registry.InstallOptions) *registry.Plugin {
	t.Helper()
	p, err := n.reg.Install(context.Background(), dir, trust)
	if err != nil {
		t.Fatal(err)
	}
	if err := pluginsync.Publish(context.Background(), b, p); err != nil {
		t.Fatal(err)
	}
	return p
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func installed(n *node, id string) bool {
	_, err := n.reg.Resolve(id)
	return err == nil
}

func refused(n *node, id string) string {
	for _, r := range n.sync.Refused() {
		if r.ID == id {
			return r.Error
		}
	}
	return ""
}

func openBucket(t *testing.T, c *natstest.Cluster, replicas int) *js.Objects {
	t.Helper()
	b, err := js.OpenObjects(context.Background(), js.Options{URL: c.URL(), Replicas: replicas}, pluginsync.BucketSuffix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// A plugin installed on one node reaches a running node and one that
// starts later; each verifies it with its own keys; removal propagates,
// also to a node that was down when it happened.
func TestSyncAcrossNodes(t *testing.T) {
	for _, replicas := range []int{1, 3} {
		t.Run(fmt.Sprintf("R%d", replicas), func(t *testing.T) { testSyncAcrossNodes(t, replicas) })
	}
}

func testSyncAcrossNodes(t *testing.T, replicas int) {
	c := natstest.Start(t, t.TempDir(), replicas, natstest.Options{})
	t.Cleanup(c.Shutdown)
	bucket := openBucket(t, c, replicas)
	pub, priv := key(t)
	signed := registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{pub}, RequireSignatures: true}

	a := startNode(t, bucket, nil, signed)
	b := startNode(t, bucket, nil, signed)
	p := a.install(t, bucket, built(t, "greeter", "1.0.0", "v1", priv), signed)
	waitFor(t, "node b to install greeter", func() bool { return installed(b, p.ID()) })
	got, _ := b.reg.Resolve(p.ID())
	if got.SignedBy != registry.EncodePublicKey(pub) || got.Manifest.Artifact.SHA256 != p.Manifest.Artifact.SHA256 {
		t.Errorf("node b installed %+v, want the same artifact verified by its key", got)
	}

	// A node starting later has it by the time Start returns.
	laterDir := t.TempDir()
	laterReg, err := registry.Open(laterDir)
	if err != nil {
		t.Fatal(err)
	}
	later := startNode(t, bucket, laterReg, signed)
	if !installed(later, p.ID()) {
		t.Fatalf("a node started after the install lacks %s when Start returns", p.ID())
	}
	if err := later.sync.Close(); err != nil {
		t.Fatal(err)
	}

	// Removal on a: the bucket's tombstone removes b's copy, and the
	// stopped node's copy when it starts again.
	if _, err := a.reg.RemoveForm("greeter", "1.0.0", registry.KindWasm); err != nil {
		t.Fatal(err)
	}
	if held, err := pluginsync.Unpublish(context.Background(), bucket, p.ID()); err != nil || !held {
		t.Fatalf("Unpublish = %t, %v; want true", held, err)
	}
	waitFor(t, "node b to remove greeter", func() bool { return !installed(b, p.ID()) })
	again := startNode(t, bucket, laterReg, signed)
	if installed(again, p.ID()) {
		t.Error("a node down during the removal still has the plugin after Start")
	}
	if held, err := pluginsync.Unpublish(context.Background(), bucket, p.ID()); err != nil || held {
		t.Errorf("second Unpublish = %t, %v; want false, nil", held, err)
	}
}

// Nothing in the bucket is trusted: each node applies its own checks, and
// what fails them is reported, not installed.
func TestSyncRefuses(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	bucket := openBucket(t, c, 1)
	pub, priv := key(t)
	_, otherPriv := key(t)
	lax := registry.InstallOptions{}
	strict := registry.InstallOptions{TrustedKeys: []ed25519.PublicKey{pub}, RequireSignatures: true}

	a := startNode(t, bucket, nil, lax)
	s := startNode(t, bucket, nil, strict)

	tests := []struct {
		name    string
		publish func(t *testing.T) string // returns the object's ID
		want    string                    // in the strict node's refusal
	}{
		{"unsigned, and the node requires signatures", func(t *testing.T) string {
			return a.install(t, bucket, built(t, "unsigned", "1.0.0", "u", nil), lax).ID()
		}, "not signed"},
		{"signed by a key the node does not trust", func(t *testing.T) string {
			return a.install(t, bucket, built(t, "stranger", "1.0.0", "s", otherPriv), lax).ID()
		}, "does not verify"},
		{"artifact changed in the bucket", func(t *testing.T) string {
			p, err := a.reg.Install(context.Background(), built(t, "tampered", "1.0.0", "t", priv), lax)
			if err != nil {
				t.Fatal(err)
			}
			tamper(t, bucket, p)
			return p.ID()
		}, "sha256 mismatch"},
		{"object named for another plugin", func(t *testing.T) string {
			p, err := a.reg.Install(context.Background(), built(t, "real", "1.0.0", "r", priv), lax)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := registry.Pack(p, &buf); err != nil {
				t.Fatal(err)
			}
			if _, err := bucket.Put(context.Background(), jetstream.ObjectMeta{Name: "alias@1.0.0/wasm"}, &buf); err != nil {
				t.Fatal(err)
			}
			return "alias@1.0.0/wasm"
		}, "holds real@1.0.0/wasm"},
		{"not an archive", func(t *testing.T) string {
			if _, err := bucket.PutBytes(context.Background(), "garbage@1.0.0/wasm", []byte("not a tar.gz")); err != nil {
				t.Fatal(err)
			}
			return "garbage@1.0.0/wasm"
		}, "gzip: invalid header"},
		{"object name that is no plugin ID", func(t *testing.T) string {
			if _, err := bucket.PutBytes(context.Background(), "notes.txt", []byte("x")); err != nil {
				t.Fatal(err)
			}
			return "notes.txt"
		}, "does not name a plugin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.publish(t)
			waitFor(t, "the strict node to refuse "+id, func() bool { return refused(s, id) != "" })
			if msg := refused(s, id); !strings.Contains(msg, tt.want) {
				t.Errorf("refusal of %s = %q, want it to mention %q", id, msg, tt.want)
			}
			if installed(s, id) {
				t.Errorf("the strict node installed %s", id)
			}
		})
	}

	// A signed, intact plugin still installs on the strict node, and a
	// refusal goes once the object is deleted.
	ok := a.install(t, bucket, built(t, "trusted", "1.0.0", "ok", priv), lax)
	waitFor(t, "the strict node to install the signed plugin", func() bool { return installed(s, ok.ID()) })
	if _, err := pluginsync.Unpublish(context.Background(), bucket, "unsigned@1.0.0/wasm"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refusal to clear", func() bool { return refused(s, "unsigned@1.0.0/wasm") == "" })
	waitFor(t, "node a to remove its copy with the tombstone", func() bool { return !installed(a, "unsigned@1.0.0/wasm") })
}

// tamper replaces p's object with one whose artifact no longer matches the
// (signed) manifest.
func tamper(t *testing.T, bucket jetstream.ObjectStore, p *registry.Plugin) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{registry.ManifestFile, p.Manifest.Artifact.File} {
		b, err := os.ReadFile(filepath.Join(p.Dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == p.Manifest.Artifact.File {
			b = wasmModule("evil")
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	forged := *p
	forged.Dir = dir
	var buf bytes.Buffer
	if err := registry.Pack(&forged, &buf); err != nil {
		t.Fatal(err)
	}
	meta := jetstream.ObjectMeta{Name: p.ID(), Metadata: map[string]string{"artifact-sha256": p.Manifest.Artifact.SHA256 + "0"}}
	if _, err := bucket.Put(context.Background(), meta, &buf); err != nil {
		t.Fatal(err)
	}
}
