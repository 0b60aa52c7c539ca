package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/junctionhub/junction/builtin/directorytasks" // the hub's directory tasks
	_ "github.com/junctionhub/junction/builtin/webhook"        // configs/segment.yaml's mapping 3
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/hub"
	"github.com/junctionhub/junction/core/plugin/registry"
	"github.com/junctionhub/junction/pluginsdk"
)

// nativeName is this connector compiled into the test's hub as a builtin:
// the same source as the plugin, in process, with no plugin boundary.
const nativeName = "segment-native"

func init() {
	connector.Register(connector.Builtin{Name: nativeName, New: func() pluginsdk.Connector { return &Segment{} }})
}

// BenchmarkHubTrack is the whole hub serving single-event /v1/track calls
// (the Transaction Created fixture, a fresh messageId each) with
// configs/segment.yaml, 8 concurrent clients, the connector in each form in
// the same run: native (compiled into the hub), wasm, and goplugin (native
// code out of process). Each form gets its own hub and data directory. It
// reports acknowledged calls per second; compare the forms' ratios, not
// the absolute figures, on a shared machine.
//
//	go test -run '^$' -bench HubTrack -benchtime 3000x ./plugins/segment
func BenchmarkHubTrack(b *testing.B) {
	track := compact(b, "track-transaction-created.json")
	for _, form := range []string{"native", "wasm", "goplugin"} {
		b.Run(form, func(b *testing.B) {
			base, stop := trackHub(b, form)
			defer stop()
			postTracks(b, base, track)
		})
	}
}

// trackHub runs configs/segment.yaml in process with the connector in form.
func trackHub(b *testing.B, form string) (string, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	cfgDir, data := b.TempDir(), b.TempDir()
	cfg, err := os.ReadFile(filepath.Join("..", "..", "configs", "segment.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	if form == "native" {
		cfg = bytes.ReplaceAll(cfg, []byte("connector: segment "), []byte("connector: "+nativeName+" "))
		if !bytes.Contains(cfg, []byte(nativeName)) {
			b.Fatal("configs/segment.yaml no longer names `connector: segment `")
		}
	} else {
		dist := b.TempDir()
		reg, err := registry.Open(data)
		if err != nil {
			b.Fatal(err)
		}
		kind := registry.KindWasm
		if form == "goplugin" {
			kind = registry.KindGoPlugin
		}
		if _, err := registry.BuildDistAs(ctx, ".", filepath.Join(dist, "segment"), kind, nil); err != nil {
			b.Fatal(err)
		}
		if _, err := reg.Install(ctx, dist, registry.InstallOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "segment.yaml"), cfg, 0o644); err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"SEGMENT_WRITE_KEY": writeKey, "JUNCTION_ADMIN_TOKEN": "t"}
	h, err := hub.Open(ctx, hub.Options{
		ConfigPaths: []string{cfgDir}, DataDir: data, Addr: "127.0.0.1:0",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err != nil {
		b.Fatal(err)
	}
	addr, err := h.Listen()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	return "http://" + addr.String(), func() { cancel(); <-done }
}

// postTracks sends b.N calls from 8 clients, each acknowledged before the
// client sends its next.
func postTracks(b *testing.B, base string, track []byte) {
	const id = `"messageId":"ajs-f8ca1e4de5024d9430b3928bd8ac6b96"`
	if !bytes.Contains(track, []byte(id)) {
		b.Fatal("the fixture's messageId changed")
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	tag := fmt.Sprintf("%d", time.Now().UnixNano())
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				body := bytes.Replace(track, []byte(id), fmt.Appendf(nil, `"messageId":"bench-%s-%d"`, tag, i), 1)
				req, _ := http.NewRequest("POST", base+"/hooks/segment-prod/v1/track", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.SetBasicAuth(writeKey, "")
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				msg, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "acks/s")
}
