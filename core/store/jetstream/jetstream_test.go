package jetstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/store/jetstream/natstest"
	"github.com/nats-io/nats.go"
	"github.com/oklog/ulid/v2"
)

func ctxT(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSecretsSealedBeforeTheyLeave(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	s := openOn(t, c, 1)
	if err := s.Secrets().Put(ctxT(t), "stripe", []byte("sk_live_plaintext")); err != nil {
		t.Fatal(err)
	}
	raw, err := s.stream.GetLastMsgForSubject(ctxT(t), s.secretSubj("stripe"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Data, []byte("sk_live_plaintext")) {
		t.Fatal("the stream holds the secret in clear")
	}
	if v, err := store.OpenSecret(testKey, "stripe", raw.Data); err != nil || string(v) != "sk_live_plaintext" {
		t.Errorf("sealed value does not open with the cluster key: %q, %v", v, err)
	}
}

func TestOtherSecretKeyRefused(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	openOn(t, c, 1)
	_, err := Open(ctxT(t), Options{URL: c.URL(), Replicas: 1, SecretKey: bytes.Repeat([]byte{6}, 32), Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), store.SecretKeyEnv) {
		t.Fatalf("Open with another key: err %v, want a refusal naming %s", err, store.SecretKeyEnv)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{URL: "nats://127.0.0.1:1", SecretKey: testKey, Stream: "bad.name"},
		{URL: "nats://127.0.0.1:1", SecretKey: testKey, Replicas: 7},
		{URL: "nats://127.0.0.1:1", SecretKey: []byte("short")},
	} {
		if _, err := Open(ctxT(t), o); err == nil {
			t.Errorf("Open(%+v): want an error", o)
		}
	}
}

// Two nodes (two connections) appending the same dedup key at once store
// it once: the CAS on the key's subject lets one writer win.
func TestDedupAcrossNodes(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("R%d", n), func(t *testing.T) {
			if n > 1 && testing.Short() {
				t.Skip("3-node cluster")
			}
			testDedupAcrossNodes(t, n)
		})
	}
}

func testDedupAcrossNodes(t *testing.T, n int) {
	c := natstest.Start(t, t.TempDir(), n, natstest.Options{})
	t.Cleanup(c.Shutdown)
	nodes := []*Store{openOn(t, c, n), openOn(t, c, n)}
	var wg sync.WaitGroup
	results := make([]store.AppendResult, 24)
	for i := range results {
		wg.Go(func() {
			res, err := nodes[i%2].Log().Append(ctxT(t), []store.AppendRequest{{
				Connection: "seg", DedupKey: "msg-1", Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
			}})
			if err != nil {
				t.Errorf("Append: %v", err)
				return
			}
			results[i] = res[0]
		})
	}
	wg.Wait()
	stored := 0
	for _, r := range results {
		if !r.Duplicate {
			stored++
		}
		if r.Seq != results[0].Seq {
			t.Errorf("result %+v names another event than %+v", r, results[0])
		}
	}
	if stored != 1 {
		t.Errorf("%d appends stored, want 1", stored)
	}
	evs, err := nodes[0].Log().Read(ctxT(t), 0, 100)
	if err != nil || len(evs) != 1 {
		t.Errorf("log holds %d events (%v), want 1", len(evs), err)
	}
}

// A batch whose dedup CAS fails at the server stores nothing: neither its
// events nor its KV writes.
func TestBatchRejectedWhole(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	s := openOn(t, c, 1)
	evs, err := s.prepareEvents([]store.AppendRequest{
		{Connection: "c", Payload: json.RawMessage(`{"n":1}`)},
		{Connection: "c", DedupKey: "k", Payload: json.RawMessage(`{"n":2}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, msgs, _, err := s.planAppend(ctxT(t), evs, true)
	if err != nil {
		t.Fatal(err)
	}
	// Another node appends the same key between the plan and the commit.
	if res, err := s.Log().Append(ctxT(t), []store.AppendRequest{{Connection: "c", DedupKey: "k", Payload: json.RawMessage(`{"n":0}`)}}); err != nil || res[0].Duplicate {
		t.Fatalf("competing append: %v, %v", res, err)
	}
	kv, _ := s.kvMsgs([]store.KVWrite{{Key: "cursor", Value: []byte("9")}})
	_, err = s.publish(ctxT(t), append(msgs, kv...))
	if !isWrongLast(err) {
		t.Fatalf("publish of the stale batch: err %v, want a wrong-last-sequence refusal", err)
	}
	if _, err := s.KV().Get(ctxT(t), "cursor"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("KV write of the refused batch: err %v, want ErrNotFound", err)
	}
	got, _ := s.Log().Read(ctxT(t), 0, 10)
	if len(got) != 1 || string(got[0].Payload) != `{"n":0}` {
		t.Errorf("log = %d events, want only the competing one", len(got))
	}
	// Append itself re-plans after such a refusal: the event without a key
	// is stored, the keyed one is found a duplicate.
	res, err := s.Log().AppendWithKV(ctxT(t), []store.AppendRequest{
		{Connection: "c", Payload: json.RawMessage(`{"n":1}`)},
		{Connection: "c", DedupKey: "k", Payload: json.RawMessage(`{"n":2}`)},
	}, []store.KVWrite{{Key: "cursor", Value: []byte("9")}})
	if err != nil || res[0].Duplicate || !res[1].Duplicate || res[1].Seq != got[0].Seq {
		t.Errorf("AppendWithKV after the competitor = %+v, %v", res, err)
	}
}

func oldRun(t *testing.T, age time.Duration, status string, dead bool) *store.Run {
	at := time.Now().Add(-age)
	return &store.Run{
		ID: ulid.MustNew(ulid.Timestamp(at), ulid.DefaultEntropy()).String(), Workflow: "wf",
		Status: status, DeadLetter: dead, CreatedAt: at, Input: json.RawMessage(`{}`),
	}
}

func TestRetention(t *testing.T) {
	c := natstest.Start(t, t.TempDir(), 1, natstest.Options{})
	t.Cleanup(c.Shutdown)
	s := openOn(t, c, 1)
	var reqs []store.AppendRequest
	for i := range 10 {
		reqs = append(reqs, store.AppendRequest{Connection: "c", Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
	}
	res, err := s.Log().Append(ctxT(t), reqs)
	if err != nil {
		t.Fatal(err)
	}
	oldDone := oldRun(t, 48*time.Hour, store.StatusCompleted, false)
	oldRunning := oldRun(t, 48*time.Hour, store.StatusRunning, false)
	oldDead := oldRun(t, 48*time.Hour, store.StatusFailed, true)
	young := oldRun(t, time.Minute, store.StatusCompleted, false)
	if err := s.Runs().Create(ctxT(t), []*store.Run{oldDone, oldRunning, oldDead, young}, []store.KVWrite{{Key: "cursor", Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond) // the events' stream timestamps are now in the past
	x := &Expirer{s: s, p: store.RetentionPolicy{
		Events: time.Millisecond, Runs: 24 * time.Hour, DeadLetters: 72 * time.Hour,
		Floor: func() uint64 { return res[4].Seq }, // the dispatcher handled five events
	}}
	sw := x.Sweep(ctxT(t))
	if sw.Error != "" || sw.Events != 5 || sw.Runs != 1 {
		t.Fatalf("sweep = %+v, want 5 events and 1 run", sw)
	}
	evs, _ := s.Log().Read(ctxT(t), 0, 100)
	if len(evs) != 5 || evs[0].Seq != res[5].Seq {
		t.Errorf("events left: %d from %v, want the five past the floor", len(evs), evs)
	}
	for _, r := range []struct {
		run  *store.Run
		gone bool
	}{{oldDone, true}, {oldRunning, false}, {oldDead, false}, {young, false}} {
		_, err := s.Runs().Get(ctxT(t), r.run.ID)
		if gone := errors.Is(err, store.ErrNotFound); gone != r.gone {
			t.Errorf("run %s (%s): gone=%v, want %v", r.run.ID, r.run.Status, gone, r.gone)
		}
	}
	if v, err := s.KV().Get(ctxT(t), "cursor"); err != nil || string(v) != "x" {
		t.Errorf("KV after the sweep = %q, %v: retention must not touch it", v, err)
	}
	// Over max_data_bytes: events up to the floor and finished runs go
	// early; the unfinished run, the dead letter and the KV stay.
	x.p = store.RetentionPolicy{MaxDataBytes: 1, Floor: func() uint64 { return s.Log().LastSeq() }}
	sw = x.Sweep(ctxT(t))
	if sw.Error != "" || sw.Events != 5 || sw.Runs != 1 {
		t.Fatalf("capped sweep = %+v, want 5 events and the young finished run", sw)
	}
	if un, _ := s.Runs().Unfinished(ctxT(t)); len(un) != 1 {
		t.Errorf("unfinished runs after the cap: %d, want 1", len(un))
	}
	if _, err := s.Runs().Get(ctxT(t), oldDead.ID); err != nil {
		t.Errorf("dead letter after the cap: %v", err)
	}
	if _, err := s.KV().Get(ctxT(t), "cursor"); err != nil {
		t.Errorf("KV after the cap: %v", err)
	}
}

// On three servers with three replicas, an acknowledged append survives
// the loss of any one server, and appends go on without it.
func TestR3SurvivesNodeLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("3-node cluster")
	}
	c := natstest.Start(t, t.TempDir(), 3, natstest.Options{})
	t.Cleanup(c.Shutdown)
	s := openOn(t, c, 3)
	var acked []uint64
	appendSome := func(from, n int) {
		for i := from; i < from+n; i++ {
			deadline := time.Now().Add(30 * time.Second)
			for {
				res, err := s.Log().Append(ctxT(t), []store.AppendRequest{{Connection: "c", DedupKey: fmt.Sprint(i), Payload: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}})
				if err == nil {
					if !res[0].Duplicate {
						acked = append(acked, res[0].Seq)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("append %d: %v", i, err)
				}
				time.Sleep(100 * time.Millisecond) // a new stream leader is being elected
			}
		}
	}
	appendSome(0, 50)
	leader := -1
	for i, srv := range c.Servers {
		if srv.JetStreamIsStreamLeader("$G", DefaultStream) {
			leader = i
		}
	}
	if leader < 0 {
		t.Fatal("no stream leader")
	}
	c.Stop(leader) // the server holding the leader's copy goes away
	appendSome(50, 50)

	var other []string
	for i := range c.Servers {
		if i != leader {
			other = append(other, strings.Split(c.URL(), ",")[i])
		}
	}
	nc, err := nats.Connect(strings.Join(other, ","))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	r, err := Open(ctxT(t), Options{Conn: nc, Replicas: 3, SecretKey: testKey, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	var got []uint64
	for after := uint64(0); ; {
		evs, err := r.Log().Read(ctxT(t), after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			got = append(got, e.Seq)
			after = e.Seq
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(acked) {
		t.Errorf("after losing a server the log holds %d events, %d were acknowledged", len(got), len(acked))
	}
}
