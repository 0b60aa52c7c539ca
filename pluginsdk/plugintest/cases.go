package plugintest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// safely runs fn, turning a panic that escapes the connector into a test
// failure (and an error) instead of a crashed test binary.
func safely(t *testing.T, what string, fn func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic escaped the connector: %v", what, r)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

func cloneRequest(r pluginsdk.HTTPRequest) pluginsdk.HTTPRequest {
	c := r
	c.Body = bytes.Clone(r.Body)
	c.Header = make(map[string][]string, len(r.Header))
	for k, v := range r.Header {
		c.Header[k] = append([]string(nil), v...)
	}
	return c
}

func checkEvents(t *testing.T, what string, evs []pluginsdk.Event) {
	t.Helper()
	for i, ev := range evs {
		if !json.Valid(ev.Payload) {
			t.Errorf("%s: event %d payload is not valid JSON: %.80q", what, i, ev.Payload)
		}
	}
}

func checkReceive(t *testing.T, tg Target, spec pluginsdk.Spec) {
	if !spec.HasRole(pluginsdk.RoleReceive) {
		if len(tg.Receive) > 0 {
			t.Error("Target has Receive cases but the spec does not declare receive")
		}
		t.Skip("no receive role")
	}
	if len(tg.Receive) == 0 {
		t.Error("the spec declares receive but the Target has no Receive cases")
		return
	}
	c, h := configured(t, tg)
	r := c.(pluginsdk.Receiver)
	for _, rc := range tg.Receive {
		t.Run(rc.Name, func(t *testing.T) {
			req := cloneRequest(rc.Request)
			if tg.Authorize != nil {
				tg.Authorize(&req)
			}
			var res *pluginsdk.ReceiveResult
			err := safely(t, "Receive", func() (err error) {
				res, err = r.Receive(context.Background(), &req)
				return err
			})
			switch {
			case rc.WantStatus >= 400:
				if err == nil {
					t.Fatalf("Receive succeeded, want an error with status %d", rc.WantStatus)
				}
				if pe := typedError(t, "Receive", err); pe != nil && pe.Status != rc.WantStatus {
					t.Errorf("Receive error status = %d (%v), want %d", pe.Status, pe, rc.WantStatus)
				}
			case err != nil:
				t.Fatalf("Receive: %v", err)
			default:
				checkReceiveResult(t, res)
				if rc.WantStatus != 0 && res.Response.Status != rc.WantStatus {
					t.Errorf("response status = %d, want %d", res.Response.Status, rc.WantStatus)
				}
				if rc.WantStatus == 0 && (res.Response.Status < 200 || res.Response.Status > 299) {
					t.Errorf("response status = %d, want 2xx", res.Response.Status)
				}
				if rc.WantEvents >= 0 && len(res.Events) != rc.WantEvents {
					t.Errorf("got %d events, want %d", len(res.Events), rc.WantEvents)
				}
			}
			if rc.Check != nil {
				rc.Check(t, h, res, err)
			}
		})
	}
}

func checkReceiveResult(t *testing.T, res *pluginsdk.ReceiveResult) {
	t.Helper()
	if res == nil {
		t.Fatal("Receive returned neither a result nor an error")
	}
	checkEvents(t, "Receive", res.Events)
	if s := res.Response.Status; s < 100 || s > 599 {
		t.Errorf("response status %d is not an HTTP status", s)
	}
}

func checkFetch(t *testing.T, tg Target, spec pluginsdk.Spec) {
	if !spec.HasRole(pluginsdk.RoleFetch) && !spec.HasRole(pluginsdk.RoleMetadata) {
		if len(tg.Fetch) > 0 {
			t.Error("Target has Fetch cases but the spec does not declare fetch")
		}
		t.Skip("no fetch or metadata role")
	}
	c, h := configured(t, tg)
	if spec.HasRole(pluginsdk.RoleMetadata) {
		var md *pluginsdk.MetadataResult
		err := safely(t, "Metadata", func() (err error) {
			md, err = c.(pluginsdk.MetadataProvider).Metadata(context.Background())
			return err
		})
		switch {
		case err != nil:
			t.Errorf("Metadata: %v", err)
		case md == nil || len(md.Entities) == 0:
			t.Error("Metadata returned no entities")
		default:
			for _, e := range md.Entities {
				if e.Name == "" {
					t.Error("Metadata: an entity has no name")
				}
			}
		}
	}
	if !spec.HasRole(pluginsdk.RoleFetch) {
		return
	}
	if len(tg.Fetch) == 0 {
		t.Error("the spec declares fetch but the Target has no Fetch cases")
		return
	}
	f := c.(pluginsdk.Fetcher)
	fetch := func(t *testing.T, fc FetchCase, cursor []byte) (*pluginsdk.FetchResult, error) {
		var res *pluginsdk.FetchResult
		err := safely(t, "Fetch", func() (err error) {
			res, err = f.Fetch(context.Background(), &pluginsdk.FetchRequest{Entity: fc.Entity, Cursor: cursor, Limit: fc.Limit})
			return err
		})
		if err == nil && res == nil {
			t.Fatal("Fetch returned neither a result nor an error")
		}
		if res != nil {
			checkEvents(t, "Fetch", res.Events)
		}
		return res, err
	}
	for _, fc := range tg.Fetch {
		t.Run(fc.Name, func(t *testing.T) {
			first, err := fetch(t, fc, nil)
			if fc.Check != nil {
				fc.Check(t, h, first, err)
			}
			if err != nil || !first.More {
				return
			}
			if len(first.Cursor) == 0 {
				t.Fatal("Fetch says More but returned no cursor")
			}
			// Resuming from a saved cursor twice must give the same batch,
			// and none of the first batch again.
			a, errA := fetch(t, fc, first.Cursor)
			b, errB := fetch(t, fc, first.Cursor)
			if errA != nil || errB != nil {
				t.Fatalf("Fetch after the cursor: %v / %v", errA, errB)
			}
			if len(a.Events) != len(b.Events) {
				t.Fatalf("resuming from the same cursor gave %d then %d events", len(a.Events), len(b.Events))
			}
			seen := map[string]bool{}
			for _, ev := range first.Events {
				if ev.DedupKey != "" {
					seen[ev.DedupKey] = true
				}
			}
			for i := range a.Events {
				if !bytes.Equal(a.Events[i].Payload, b.Events[i].Payload) {
					t.Errorf("resuming from the same cursor: event %d differs", i)
				}
				if k := a.Events[i].DedupKey; k != "" && seen[k] {
					t.Errorf("event %q of the first batch came again after its cursor", k)
				}
			}
		})
	}
}

func checkPerform(t *testing.T, tg Target, spec pluginsdk.Spec) {
	if !spec.HasRole(pluginsdk.RolePerform) {
		if len(tg.Perform) > 0 {
			t.Error("Target has Perform cases but the spec does not declare perform")
		}
		t.Skip("no perform role")
	}
	c, h := configured(t, tg)
	p := c.(pluginsdk.Performer)
	for _, pc := range tg.Perform {
		t.Run(pc.Name, func(t *testing.T) {
			var res *pluginsdk.PerformResult
			err := safely(t, "Perform", func() (err error) {
				res, err = p.Perform(context.Background(), &pc.Request)
				return err
			})
			switch {
			case pc.WantError && err == nil:
				t.Fatalf("Perform(%s) succeeded, want an error", pc.Request.Action)
			case pc.WantError:
				if pe := typedError(t, "Perform", err); pe != nil && pe.Retryable != pc.WantRetryable {
					t.Errorf("Perform(%s) error %q: retryable = %v, want %v", pc.Request.Action, pe, pe.Retryable, pc.WantRetryable)
				}
			case err != nil:
				t.Fatalf("Perform(%s): %v", pc.Request.Action, err)
			case res != nil && len(res.Output) > 0 && !json.Valid(res.Output):
				t.Errorf("Perform(%s) output is not valid JSON: %.80q", pc.Request.Action, res.Output)
			}
			if pc.Check != nil {
				pc.Check(t, h, res, err)
			}
		})
	}
	t.Run("unknown action", func(t *testing.T) {
		err := safely(t, "Perform", func() error {
			_, err := p.Perform(context.Background(), &pluginsdk.PerformRequest{Action: "no-such-action-" + spec.Name, Input: json.RawMessage(`{}`)})
			return err
		})
		if err == nil {
			t.Fatal("Perform of an unknown action succeeded")
		}
		if pe := typedError(t, "Perform", err); pe != nil && pe.Retryable {
			t.Errorf("an unknown action is a permanent error, got retryable %q", pe)
		}
	})
}

// checkContext calls each declared role with a cancelled and with an expired
// context: the connector must fail the call, promptly. Roles the spec does not
// declare must fail with a typed error where the connector (an adapter) has
// the method at all.
func checkContext(t *testing.T, tg Target, spec pluginsdk.Spec) {
	c, _ := configured(t, tg)
	calls := map[string]func(ctx context.Context) error{
		pluginsdk.RoleReceive: func(ctx context.Context) error {
			req := pluginsdk.HTTPRequest{Method: "POST", Body: []byte(`{}`)}
			if len(tg.Receive) > 0 {
				req = cloneRequest(tg.Receive[0].Request)
			}
			if tg.Authorize != nil {
				tg.Authorize(&req)
			}
			_, err := c.(pluginsdk.Receiver).Receive(ctx, &req)
			return err
		},
		pluginsdk.RoleFetch: func(ctx context.Context) error {
			req := pluginsdk.FetchRequest{}
			if len(tg.Fetch) > 0 {
				req.Entity = tg.Fetch[0].Entity
			}
			_, err := c.(pluginsdk.Fetcher).Fetch(ctx, &req)
			return err
		},
		pluginsdk.RoleMetadata: func(ctx context.Context) error {
			_, err := c.(pluginsdk.MetadataProvider).Metadata(ctx)
			return err
		},
		pluginsdk.RolePerform: func(ctx context.Context) error {
			req := pluginsdk.PerformRequest{Input: json.RawMessage(`{}`)}
			if len(tg.Perform) > 0 {
				req = tg.Perform[0].Request
			} else if len(spec.Actions) > 0 {
				req.Action = spec.Actions[0].Name
			}
			_, err := c.(pluginsdk.Performer).Perform(ctx, &req)
			return err
		},
	}
	has := map[string]bool{
		pluginsdk.RoleReceive:  implements[pluginsdk.Receiver](c),
		pluginsdk.RoleFetch:    implements[pluginsdk.Fetcher](c),
		pluginsdk.RoleMetadata: implements[pluginsdk.MetadataProvider](c),
		pluginsdk.RolePerform:  implements[pluginsdk.Performer](c),
	}
	for _, role := range []string{pluginsdk.RoleReceive, pluginsdk.RoleFetch, pluginsdk.RoleMetadata, pluginsdk.RolePerform} {
		call := calls[role]
		if !has[role] {
			continue
		}
		if !spec.HasRole(role) {
			err := safely(t, role, func() error { return call(context.Background()) })
			if err == nil {
				t.Errorf("%s is not declared in the spec, yet calling it succeeded", role)
			} else if pe := typedError(t, role, err); pe != nil && pe.Retryable {
				t.Errorf("%s is not declared: want a permanent error, got retryable %q", role, pe)
			}
			continue
		}
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel2()
		for name, ctx := range map[string]context.Context{"cancelled": cancelled, "expired": expired} {
			done := make(chan error, 1)
			go func() { done <- safely(t, role, func() error { return call(ctx) }) }()
			select {
			case err := <-done:
				if err == nil {
					t.Errorf("%s with a %s context succeeded, want an error", role, name)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s with a %s context did not return within 10s", role, name)
			}
		}
	}
}

// garbage is what a careless or hostile caller might send.
func garbage() [][]byte {
	g := [][]byte{
		nil, []byte(""), []byte(" "), []byte("null"), []byte("[]"), []byte("{}"), []byte("[{}]"), []byte("{"),
		[]byte(`{"a":`), []byte("not json"), []byte(`"string"`), []byte("12"), []byte("[1,2,3]"), []byte(`[null,{}]`),
		[]byte{0xff, 0xfe, 0x00, 0x01}, []byte(`{"type":5,"event":{},"properties":[]}`), []byte(`{"a":"\ud800"}`),
		[]byte(strings.Repeat("[", 100_000)), []byte(strings.Repeat(`{"a":`, 20_000) + "1" + strings.Repeat("}", 20_000)),
		[]byte("[" + strings.Repeat(`{"type":"track"},`, 2000) + "{}]"),
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 8; i++ {
		b := make([]byte, r.Intn(512))
		r.Read(b)
		g = append(g, b)
	}
	return g
}

// checkGarbage feeds garbage to Receive and Perform: every call must either
// succeed with valid JSON or fail with a typed error (4xx for Receive); no
// panic may escape and the connector must not crash.
func checkGarbage(t *testing.T, tg Target, spec pluginsdk.Spec) {
	c, _ := configured(t, tg)
	if r, ok := c.(pluginsdk.Receiver); ok && spec.HasRole(pluginsdk.RoleReceive) {
		base := pluginsdk.HTTPRequest{Method: "POST", Header: map[string][]string{"Content-Type": {"application/json"}}}
		if len(tg.Receive) > 0 {
			base = tg.Receive[0].Request
		}
		for i, body := range garbage() {
			req := cloneRequest(base)
			req.Body = body
			if tg.Authorize != nil {
				tg.Authorize(&req)
			}
			var res *pluginsdk.ReceiveResult
			err := safely(t, "Receive", func() (err error) {
				res, err = r.Receive(context.Background(), &req)
				return err
			})
			what := fmt.Sprintf("Receive(garbage %d: %.30q)", i, body)
			if err != nil {
				if pe := typedError(t, what, err); pe != nil && (pe.Status < 400 || pe.Status > 499) {
					t.Errorf("%s: error %q has status %d, want 4xx for bad input", what, pe, pe.Status)
				}
				continue
			}
			checkReceiveResult(t, res)
		}
	}
	if p, ok := c.(pluginsdk.Performer); ok && spec.HasRole(pluginsdk.RolePerform) {
		for _, a := range spec.Actions {
			for i, in := range garbage() {
				var res *pluginsdk.PerformResult
				err := safely(t, "Perform", func() (err error) {
					res, err = p.Perform(context.Background(), &pluginsdk.PerformRequest{Action: a.Name, Input: in, Attempt: 1})
					return err
				})
				what := fmt.Sprintf("Perform(%s, garbage %d: %.30q)", a.Name, i, in)
				if err != nil {
					typedError(t, what, err)
					continue
				}
				if res != nil && len(res.Output) > 0 && !json.Valid(res.Output) {
					t.Errorf("%s: output is not valid JSON: %.80q", what, res.Output)
				}
			}
		}
	}
}
