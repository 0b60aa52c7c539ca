package plugintest

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// flawed is a connector that breaks one rule of the contract, named by flaw
// ("" breaks none).
type flawed struct {
	flaw string
	stop chan struct{}
}

func (f *flawed) Spec() pluginsdk.Spec {
	v := "1.0.0"
	if f.flaw == "bad-version" {
		v = "1.0"
	}
	return pluginsdk.Spec{
		Name: "flawed", Version: v, ABI: pluginsdk.ABIVersion, Direction: pluginsdk.Bidirectional,
		Config:  []pluginsdk.Param{{Name: "token", Type: pluginsdk.TypeString, Required: true}},
		Roles:   []string{pluginsdk.RoleReceive, pluginsdk.RolePerform},
		Actions: []pluginsdk.Action{{Name: "echo"}},
	}
}

func (f *flawed) Configure(_ context.Context, c *pluginsdk.Context) error {
	var cfg struct {
		Token string `json:"token"`
	}
	_ = c.DecodeConfig(&cfg)
	if cfg.Token == "" {
		if f.flaw == "unnamed-key" {
			return pluginsdk.Errorf("config is incomplete")
		}
		return pluginsdk.Errorf("config: missing required key token")
	}
	if f.flaw == "leaks" {
		f.stop = make(chan struct{})
		go func() { <-f.stop }() // never stopped
	}
	return nil
}

func (f *flawed) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if ctx.Err() != nil && f.flaw != "ignores-ctx" {
		return nil, pluginsdk.Retryable("receive: %v", ctx.Err())
	}
	if !json.Valid(req.Body) {
		switch f.flaw {
		case "panics":
			panic("cannot parse")
		case "500":
			return nil, pluginsdk.Errorf("bad body")
		}
		return nil, pluginsdk.BadRequest("body is not JSON")
	}
	payload := json.RawMessage(req.Body)
	if f.flaw == "bad-payload" {
		payload = json.RawMessage(`{"truncated":`)
	}
	return &pluginsdk.ReceiveResult{Events: []pluginsdk.Event{{Payload: payload}}, Response: pluginsdk.HTTPResponse{Status: 200}}, nil
}

func (f *flawed) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if ctx.Err() != nil {
		return nil, pluginsdk.Retryable("perform: %v", ctx.Err())
	}
	if req.Action != "echo" {
		return nil, pluginsdk.Errorf("unknown action %q", req.Action)
	}
	if len(req.Input) > 0 && !json.Valid(req.Input) {
		return nil, pluginsdk.Errorf("input is not JSON")
	}
	return &pluginsdk.PerformResult{Output: req.Input}, nil
}

func flawedTarget(flaw string) Target {
	tg := Native("flawed-"+flaw, func() pluginsdk.Connector { return &flawed{flaw: flaw} })
	tg.Config = json.RawMessage(`{"token": "t"}`)
	tg.Receive = []ReceiveCase{
		{Name: "event", Request: pluginsdk.HTTPRequest{Method: "POST", Body: []byte(`{"a":1}`)}, WantEvents: 1},
		{Name: "bad body", Request: pluginsdk.HTTPRequest{Method: "POST", Body: []byte(`{`)}, WantStatus: 400},
	}
	tg.Perform = []PerformCase{{Name: "echo", Request: pluginsdk.PerformRequest{Action: "echo", Input: json.RawMessage(`{"x":1}`)}}}
	return tg
}

// TestFlawedTarget runs the suite on one flawed connector; it only runs when
// TestSuiteCatchesFlaws starts this binary again for it.
func TestFlawedTarget(t *testing.T) {
	flaw, ok := os.LookupEnv("PLUGINTEST_FLAW")
	if !ok {
		t.Skip("run by TestSuiteCatchesFlaws")
	}
	Acceptance(t, flawedTarget(flaw))
}

// TestSuiteCatchesFlaws proves the suite fails each broken rule, and passes a
// connector that keeps them all. Each flaw runs in a child process, because
// a failing suite fails the test that runs it.
func TestSuiteCatchesFlaws(t *testing.T) {
	tests := []struct{ flaw, want string }{
		{"", ""},
		{"bad-version", `spec version "1.0" is not a semantic version`},
		{"unnamed-key", `does not name the key "token"`},
		{"panics", "panic escaped the connector: cannot parse"},
		{"500", "want 4xx for bad input"},
		{"bad-payload", "payload is not valid JSON"},
		{"ignores-ctx", "receive with a cancelled context succeeded"},
		{"leaks", "found unexpected goroutines"},
	}
	for _, tt := range tests {
		t.Run("flaw="+tt.flaw, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestFlawedTarget$", "-test.v")
			cmd.Env = append(os.Environ(), "PLUGINTEST_FLAW="+tt.flaw)
			out, err := cmd.CombinedOutput()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("the suite failed a sound connector: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("the suite passed a connector with flaw %q:\n%s", tt.flaw, out)
			}
			if !strings.Contains(string(out), tt.want) {
				t.Errorf("the suite failed, but not with %q:\n%s", tt.want, out)
			}
		})
	}
}
