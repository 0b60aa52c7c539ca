// Command sandbox is a test guest for core/plugin/wasm: a connector whose
// actions misbehave on purpose (loop, trap, panic, exhaust memory, reach for
// forbidden hosts, files, environment and sockets) so the host's sandbox can
// be tested, plus an envelope benchmark export.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime/debug"
	"strings"
	"unsafe"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/serve"
)

func init() { pluginsdk.Register(func() pluginsdk.Connector { return &sandbox{} }) }

func main() { serve.Main() }

type sandbox struct{ pc *pluginsdk.Context }

func (s *sandbox) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name: "sandbox", Version: "0.0.1", ABI: pluginsdk.ABIVersion, Direction: pluginsdk.Bidirectional,
		Roles: []string{pluginsdk.RoleReceive, pluginsdk.RolePerform},
		Actions: []pluginsdk.Action{
			{Name: "echo"}, {Name: "loop"}, {Name: "trap"}, {Name: "panic"}, {Name: "grow"},
			{Name: "http"}, {Name: "escape"}, {Name: "log"}, {Name: "kv"},
		},
	}
}

func (s *sandbox) Configure(_ context.Context, pc *pluginsdk.Context) error {
	var cfg struct {
		Fail bool `json:"fail"`
	}
	if err := pc.DecodeConfig(&cfg); err != nil {
		return err
	}
	if cfg.Fail {
		return &pluginsdk.Error{Code: "config", Message: "config: fail was set"}
	}
	s.pc = pc
	return nil
}

// Receive echoes the body back as one event and as the response.
func (s *sandbox) Receive(_ context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	return &pluginsdk.ReceiveResult{
		Events:   []pluginsdk.Event{{Payload: req.Body, Type: req.Method, DedupKey: req.HeaderValue("X-Id")}},
		Response: pluginsdk.HTTPResponse{Status: 201, Header: req.Header, Body: req.Body},
	}, nil
}

var sink [][]byte

func (s *sandbox) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	switch req.Action {
	case "echo":
		return &pluginsdk.PerformResult{Output: req.Input}, nil
	case "loop":
		for n := 0; ; n++ {
			if n < 0 {
				break
			}
		}
		return nil, nil
	case "trap":
		// An out-of-bounds load: a real Wasm trap, not a Go panic.
		var anchor int64
		p := (*int64)(unsafe.Add(unsafe.Pointer(&anchor), 0x7FFF0000)) // 2 GiB past it, beyond any memory limit
		return &pluginsdk.PerformResult{Output: json.RawMessage(fmt.Sprint(*p))}, nil
	case "panic":
		panic("boom")
	case "grow":
		for {
			sink = append(sink, make([]byte, 8<<20))
		}
	case "http":
		var in struct {
			URL string `json:"url"`
		}
		if err := json.Unmarshal(req.Input, &in); err != nil {
			return nil, pluginsdk.Errorf("input: %v", err)
		}
		resp, err := s.pc.HTTP.Do(ctx, &pluginsdk.HTTPRequest{Method: "GET", URL: in.URL})
		if err != nil {
			return nil, fmt.Errorf("get %s: %w", in.URL, err)
		}
		out, _ := json.Marshal(map[string]any{"status": resp.Status, "length": len(resp.Body), "header": resp.Header["X-Test"]})
		return &pluginsdk.PerformResult{Output: out}, nil
	case "escape":
		return &pluginsdk.PerformResult{Output: escape()}, nil
	case "log":
		s.pc.Log.Info("hello from the guest", "n", 42, slogGroup())
		fmt.Println("printed to stdout")
		fmt.Fprintln(os.Stderr, "printed to stderr")
		return nil, nil
	case "kv":
		if err := s.pc.KV.Set(ctx, "k", req.Input, 0); err != nil {
			return nil, err
		}
		v, ok, err := s.pc.KV.Get(ctx, "k")
		if err != nil || !ok {
			return nil, fmt.Errorf("kv get: %v %v", ok, err)
		}
		if err := s.pc.KV.Delete(ctx, "k"); err != nil {
			return nil, err
		}
		if _, ok, _ := s.pc.KV.Get(ctx, "k"); ok {
			return nil, errors.New("kv: deleted key still there")
		}
		return &pluginsdk.PerformResult{Output: v}, nil
	}
	return nil, pluginsdk.Errorf("unknown action %q", req.Action)
}

// escape tries every way out of the sandbox and reports what happened.
func escape() []byte {
	report := map[string]string{}
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	b, err := os.ReadFile("/etc/passwd")
	report["readfile"], report["readfile_bytes"] = errText(err), fmt.Sprint(len(b))
	_, err = os.ReadDir("/")
	report["readdir"] = errText(err)
	err = os.WriteFile("/tmp/escaped", []byte("x"), 0o644)
	report["writefile"] = errText(err)
	report["env"] = strings.Join(os.Environ(), " ")
	// What the Go runtime made of the environment the host set.
	gogc := debug.SetGCPercent(100)
	debug.SetGCPercent(gogc)
	report["gogc"], report["memlimit"] = fmt.Sprint(gogc), fmt.Sprint(debug.SetMemoryLimit(-1))
	report["args"] = fmt.Sprint(len(os.Args))
	_, err = net.Dial("tcp", "127.0.0.1:80")
	report["dial"] = errText(err)
	out, _ := json.Marshal(report)
	return out
}
