package plugintest

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/junctionhub/junction/pluginsdk"
)

// Target is one connector under test, with the inputs the suite feeds it.
// The suite is the same whatever the form: give New a native constructor
// (Native) or a built module (Wasm).
type Target struct {
	Name string
	// New returns a fresh, unconfigured connector.
	New func(t *testing.T) pluginsdk.Connector
	// Native enables checks only an in-process connector allows (goroutine
	// leaks).
	Native bool

	// Config is a good `config:` block; Auth a good `auth:` block.
	Config json.RawMessage
	Auth   pluginsdk.Auth
	// BadConfigs must each fail Configure, naming every WantMissing key. The
	// suite also drops each required key of the Spec from Config by itself.
	BadConfigs []BadConfig
	// Host prepares the fake host before Configure (HTTP handlers...).
	Host func(h *Host)
	// Authorize adds whatever credentials Receive checks to an inbound
	// request (a signature over the body...), so garbage bodies reach the
	// parser instead of stopping at authentication.
	Authorize func(req *pluginsdk.HTTPRequest)

	Receive []ReceiveCase
	Fetch   []FetchCase
	Perform []PerformCase
}

// BadConfig is a config that Configure must refuse.
type BadConfig struct {
	Config json.RawMessage
	// WantMissing lists keys the error message must name.
	WantMissing []string
}

// ReceiveCase is one inbound request. Authorize is applied to it first.
type ReceiveCase struct {
	Name    string
	Request pluginsdk.HTTPRequest
	// WantStatus, when >= 400, expects a *pluginsdk.Error with that Status;
	// otherwise a result whose response status is WantStatus (0: any 2xx).
	WantStatus int
	// WantEvents is the number of events expected (-1: any).
	WantEvents int
	Check      func(t *testing.T, h *Host, res *pluginsdk.ReceiveResult, err error)
}

// FetchCase fetches Entity from an empty cursor.
type FetchCase struct {
	Name   string
	Entity string
	Limit  int
	Check  func(t *testing.T, h *Host, res *pluginsdk.FetchResult, err error)
}

// PerformCase is one outbound action.
type PerformCase struct {
	Name    string
	Request pluginsdk.PerformRequest
	// WantError expects an error; WantRetryable then says which kind.
	WantError     bool
	WantRetryable bool
	Check         func(t *testing.T, h *Host, res *pluginsdk.PerformResult, err error)
}

// Native returns a Target for an in-process connector.
func Native(name string, newConnector func() pluginsdk.Connector) Target {
	return Target{Name: name, New: func(*testing.T) pluginsdk.Connector { return newConnector() }, Native: true}
}

// Acceptance runs the suite on tg as subtests of t.
func Acceptance(t *testing.T, tg Target) {
	t.Helper()
	if tg.New == nil {
		t.Fatal("plugintest: Target.New is nil")
	}
	t.Run(tg.Name, func(t *testing.T) {
		if tg.Native {
			// Whatever runs when the suite starts (other tests' servers, the
			// Wasm runtime) is not this connector's leak.
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
		}
		var spec pluginsdk.Spec
		t.Run("spec", func(t *testing.T) { spec = checkSpec(t, tg.New(t), tg.Native) })
		t.Run("configure", func(t *testing.T) { checkConfigure(t, tg, spec) })
		t.Run("receive", func(t *testing.T) { checkReceive(t, tg, spec) })
		t.Run("fetch", func(t *testing.T) { checkFetch(t, tg, spec) })
		t.Run("perform", func(t *testing.T) { checkPerform(t, tg, spec) })
		t.Run("context", func(t *testing.T) { checkContext(t, tg, spec) })
		t.Run("garbage", func(t *testing.T) { checkGarbage(t, tg, spec) })
	})
}

var (
	nameRe   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	semverRe = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
)

func checkSpec(t *testing.T, c pluginsdk.Connector, native bool) pluginsdk.Spec {
	spec := c.Spec()
	if !nameRe.MatchString(spec.Name) {
		t.Errorf("spec name %q: want lowercase letters, digits, - or _", spec.Name)
	}
	if !semverRe.MatchString(spec.Version) {
		t.Errorf("spec version %q is not a semantic version", spec.Version)
	}
	if spec.ABI != pluginsdk.ABIVersion {
		t.Errorf("spec abi = %d, want pluginsdk.ABIVersion (%d)", spec.ABI, pluginsdk.ABIVersion)
	}
	switch spec.Direction {
	case pluginsdk.Inbound, pluginsdk.Outbound, pluginsdk.Bidirectional:
	default:
		t.Errorf("spec direction %q: want inbound, outbound or bidirectional", spec.Direction)
	}
	for _, a := range spec.Auth {
		switch a {
		case pluginsdk.AuthNone, pluginsdk.AuthAPIKey, pluginsdk.AuthBasic, pluginsdk.AuthOAuth2:
		default:
			t.Errorf("spec auth %q is not a known auth type", a)
		}
	}
	checkParams(t, "config", spec.Config)
	if len(spec.Roles) == 0 {
		t.Error("spec declares no roles")
	}
	seen := map[string]bool{}
	for _, r := range spec.Roles {
		if seen[r] {
			t.Errorf("spec role %q declared twice", r)
		}
		seen[r] = true
	}
	roles := []struct {
		name string
		impl bool
	}{
		{pluginsdk.RoleReceive, implements[pluginsdk.Receiver](c)},
		{pluginsdk.RoleFetch, implements[pluginsdk.Fetcher](c)},
		{pluginsdk.RoleMetadata, implements[pluginsdk.MetadataProvider](c)},
		{pluginsdk.RolePerform, implements[pluginsdk.Performer](c)},
	}
	known := map[string]bool{}
	for _, r := range roles {
		known[r.name] = true
		if spec.HasRole(r.name) && !r.impl {
			t.Errorf("spec declares role %s but the connector does not implement it", r.name)
		}
		// A Wasm or go-plugin adapter implements every role interface (and
		// fails the undeclared ones, checked under "context"); a native
		// connector must not implement a role it does not declare.
		if !spec.HasRole(r.name) && r.impl && native {
			t.Errorf("the connector implements %s but the spec does not declare it", r.name)
		}
	}
	for _, r := range spec.Roles {
		if !known[r] {
			t.Errorf("spec role %q is not a known role", r)
		}
	}
	if spec.HasRole(pluginsdk.RolePerform) && len(spec.Actions) == 0 {
		t.Error("spec declares perform but no actions")
	}
	actions := map[string]bool{}
	for _, a := range spec.Actions {
		if !nameRe.MatchString(a.Name) {
			t.Errorf("action name %q: want lowercase letters, digits, - or _", a.Name)
		}
		if actions[a.Name] {
			t.Errorf("action %q declared twice", a.Name)
		}
		actions[a.Name] = true
		checkParams(t, "action "+a.Name+" input", a.Input)
	}
	if spec.HasRole(pluginsdk.RoleFetch) && len(spec.Entities) == 0 {
		t.Error("spec declares fetch but no entities")
	}
	return spec
}

func implements[T any](c pluginsdk.Connector) bool {
	_, ok := c.(T)
	return ok
}

func checkParams(t *testing.T, what string, ps []pluginsdk.Param) {
	seen := map[string]bool{}
	for _, p := range ps {
		if p.Name == "" {
			t.Errorf("%s: a parameter has no name", what)
		}
		if seen[p.Name] {
			t.Errorf("%s: parameter %q declared twice", what, p.Name)
		}
		seen[p.Name] = true
		switch p.Type {
		case pluginsdk.TypeString, pluginsdk.TypeNumber, pluginsdk.TypeBoolean, pluginsdk.TypeDuration,
			pluginsdk.TypeObject, pluginsdk.TypeList, pluginsdk.TypeSecret:
		default:
			t.Errorf("%s: parameter %q has unknown type %q", what, p.Name, p.Type)
		}
	}
}

// configured returns a fresh connector configured with tg's good config.
func configured(t *testing.T, tg Target) (pluginsdk.Connector, *Host) {
	t.Helper()
	h := NewHost(t)
	if tg.Host != nil {
		tg.Host(h)
	}
	c := tg.New(t)
	closeAtEnd(t, c)
	if err := safely(t, "Configure", func() error { return c.Configure(context.Background(), h.Context(tg.Config, tg.Auth)) }); err != nil {
		t.Fatalf("Configure with the good config: %v", err)
	}
	return c, h
}

// closeAtEnd closes connectors that hold resources, whichever Close they have.
func closeAtEnd(t *testing.T, c pluginsdk.Connector) {
	switch cl := c.(type) {
	case interface{ Close(context.Context) error }:
		t.Cleanup(func() { _ = cl.Close(context.Background()) })
	case interface{ Close() error }:
		t.Cleanup(func() { _ = cl.Close() })
	}
}

func checkConfigure(t *testing.T, tg Target, spec pluginsdk.Spec) {
	configured(t, tg)
	bad := append([]BadConfig(nil), tg.BadConfigs...)
	var good map[string]json.RawMessage
	if json.Unmarshal(tg.Config, &good) == nil {
		for _, p := range spec.Config {
			if _, ok := good[p.Name]; !ok || !p.Required {
				continue
			}
			without := map[string]json.RawMessage{}
			for k, v := range good {
				if k != p.Name {
					without[k] = v
				}
			}
			raw, _ := json.Marshal(without)
			bad = append(bad, BadConfig{Config: raw, WantMissing: []string{p.Name}})
		}
	}
	for _, bc := range bad {
		h := NewHost(t)
		c := tg.New(t)
		closeAtEnd(t, c)
		err := safely(t, "Configure", func() error { return c.Configure(context.Background(), h.Context(bc.Config, tg.Auth)) })
		if err == nil {
			t.Errorf("Configure(%s) succeeded, want an error naming %v", bc.Config, bc.WantMissing)
			continue
		}
		for _, k := range bc.WantMissing {
			if !strings.Contains(err.Error(), k) {
				t.Errorf("Configure(%s) error %q does not name the key %q", bc.Config, err, k)
			}
		}
	}
}

// typedError asserts that err is (or wraps) a *pluginsdk.Error that is not a
// host adapter's report of a crash.
func typedError(t *testing.T, what string, err error) *pluginsdk.Error {
	t.Helper()
	var pe *pluginsdk.Error
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %v (%T) is not a *pluginsdk.Error", what, err, err)
		return nil
	}
	switch pe.Code {
	case "panic", "trap", "exit", "memory", "timeout":
		t.Errorf("%s: the connector crashed: %v", what, pe)
	}
	return pe
}
