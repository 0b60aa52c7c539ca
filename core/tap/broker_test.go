package tap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/junctionhub/junction/core/store"
)

func push(conn string, n int) ([]store.AppendRequest, []store.AppendResult) {
	reqs := make([]store.AppendRequest, n)
	res := make([]store.AppendResult, n)
	for i := range n {
		reqs[i] = store.AppendRequest{Connection: conn, Type: "order", Payload: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
		res[i] = store.AppendResult{ID: fmt.Sprintf("evt_%016x", i+1), Seq: uint64(i + 1)}
	}
	return reqs, res
}

func TestFilters(t *testing.T) {
	run := &store.Run{ID: "run_1", Workflow: "orders-to-crm", Connection: "orders-in", Status: store.StatusCompleted}
	other := &store.Run{ID: "run_2", Workflow: "refunds", Connection: "orders-in", Status: store.StatusFailed}
	tests := []struct {
		name   string
		filter Filter
		want   []string // kinds and ids, in order
	}{
		{"connection sees its events and the runs they start", Filter{Connection: "orders-in"}, []string{"event evt_0000000000000001", "run run_1", "run run_2"}},
		{"workflow sees its runs and its trigger's events", Filter{Workflow: "orders-to-crm", Connection: "orders-in"}, []string{"event evt_0000000000000001", "run run_1"}},
		{"scheduled workflow sees its runs only", Filter{Workflow: "refunds"}, []string{"run run_2"}},
		{"another connection sees nothing", Filter{Connection: "crm-out"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := New()
			s, err := b.Subscribe(tt.filter, 8)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			reqs, res := push("orders-in", 1)
			b.PublishAppended(reqs, res, time.Now())
			b.PublishAppended([]store.AppendRequest{{Connection: "elsewhere", Payload: json.RawMessage(`{}`)}}, []store.AppendResult{{ID: "evt_x"}}, time.Now())
			b.PublishRun(run)
			b.PublishRun(other)
			var got []string
			for len(s.Messages()) > 0 {
				m := <-s.Messages()
				var v struct{ ID string }
				if err := json.Unmarshal(m.Data, &v); err != nil {
					t.Fatal(err)
				}
				got = append(got, m.Kind+" "+v.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDuplicatesAreNotShown(t *testing.T) {
	b := New()
	s, _ := b.Subscribe(Filter{Connection: "c"}, 8)
	reqs, res := push("c", 2)
	res[1].Duplicate = true
	b.PublishAppended(reqs, res, time.Now())
	if n := len(s.Messages()); n != 1 {
		t.Errorf("%d messages for one new event and one duplicate, want 1", n)
	}
}

// TestSlowReaderIsDropped: a subscriber that reads nothing is dropped when
// its buffer is full, publishing never waits for it, and a reader that
// keeps up is not affected.
func TestSlowReaderIsDropped(t *testing.T) {
	b := New()
	slow, _ := b.Subscribe(Filter{Connection: "c"}, 4)
	fast, _ := b.Subscribe(Filter{Connection: "c"}, 4)
	got := make(chan int)
	go func() {
		n := 0
		for range fast.Messages() {
			n++
			if n == 100 {
				got <- n
				return
			}
		}
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			reqs, res := push("c", 1)
			res[0].ID = fmt.Sprint(i)
			b.PublishAppended(reqs, res, time.Now())
			// The fast reader is given the time a real one takes; the slow
			// one is not reading at all.
			for len(fast.Messages()) == cap(fast.Messages()) {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("publishing blocked on a subscriber that does not read")
	}
	<-got
	select {
	case <-slow.Done():
	default:
		t.Fatal("the slow subscriber was not dropped")
	}
	if !errors.Is(slow.Reason(), ErrSlow) {
		t.Errorf("reason %v, want ErrSlow", slow.Reason())
	}
	if n := len(slow.Messages()); n != 4 {
		t.Errorf("the dropped subscriber kept %d messages, want its full buffer of 4", n)
	}
	select {
	case <-fast.Done():
		t.Error("the reader that kept up was dropped")
	default:
	}
	if n := b.Subscribers(); n != 1 {
		t.Errorf("%d subscribers after the drop, want 1", n)
	}
}

func TestCloseEndsSubscribersAndRefusesNew(t *testing.T) {
	b := New()
	s, _ := b.Subscribe(Filter{Workflow: "w"}, 0)
	if s.Cap() != DefaultBuffer {
		t.Errorf("buffer %d, want DefaultBuffer", s.Cap())
	}
	b.Close()
	if !errors.Is(s.Reason(), ErrClosed) {
		t.Errorf("reason %v, want ErrClosed", s.Reason())
	}
	if _, err := b.Subscribe(Filter{Workflow: "w"}, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("subscribe after Close: %v, want ErrClosed", err)
	}
	if _, err := New().Subscribe(Filter{}, 1); err == nil {
		t.Error("a filter that watches nothing was accepted")
	}
}

// TestStream: the SSE stream starts with ready, carries the messages, and
// a dropped subscriber gets what it had buffered, then event: dropped.
func TestStream(t *testing.T) {
	b := New()
	s, _ := b.Subscribe(Filter{Connection: "c"}, 2)
	reqs, res := push("c", 3) // the third does not fit: dropped
	b.PublishAppended(reqs, res, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	var out bytes.Buffer
	w := bufio.NewWriter(&out)
	writes := 0
	if err := Stream(w, s, StreamOptions{BeforeWrite: func() { writes++ }}); err != nil {
		t.Fatal(err)
	}
	want := "event: ready\ndata: {\"buffer\":2,\"connection\":\"c\",\"workflow\":\"\"}\n\n" +
		"event: event\ndata: {\"id\":\"evt_0000000000000001\",\"connection\":\"c\",\"type\":\"order\",\"receivedAt\":\"2026-01-02T03:04:05Z\",\"payload\":{\"n\":0}}\n\n" +
		"event: event\ndata: {\"id\":\"evt_0000000000000002\",\"connection\":\"c\",\"type\":\"order\",\"receivedAt\":\"2026-01-02T03:04:05Z\",\"payload\":{\"n\":1}}\n\n" +
		"event: dropped\ndata: {\"reason\":\"" + ErrSlow.Error() + "\",\"buffer\":2}\n\n"
	if out.String() != want {
		t.Errorf("stream:\n%s\nwant:\n%s", out.String(), want)
	}
	if writes < 2 {
		t.Errorf("BeforeWrite ran %d times, want before every burst", writes)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

// TestStreamEndsWhenClientGoes: a failed write ends the stream and
// unsubscribes.
func TestStreamEndsWhenClientGoes(t *testing.T) {
	b := New()
	s, _ := b.Subscribe(Filter{Connection: "c"}, 2)
	if err := Stream(bufio.NewWriter(failWriter{}), s, StreamOptions{}); err == nil {
		t.Fatal("no error from a stream whose client is gone")
	}
	if b.Subscribers() != 0 {
		t.Error("the subscriber of an ended stream is still attached")
	}
}

// BenchmarkPublish is the cost the ingest path pays per pushed batch of 10
// events: with nobody watching, with a subscriber on another connection,
// and with one on this connection, whose events are then encoded. A
// benchmark loop publishes faster than any reader drains, so the watching
// subscriber is replaced whenever it is dropped, as a client would
// reconnect.
func BenchmarkPublish(b *testing.B) {
	reqs, res := push("c", 10)
	for _, tc := range []struct {
		name   string
		filter *Filter
	}{{"idle", nil}, {"other-connection", &Filter{Connection: "d"}}, {"watched", &Filter{Connection: "c"}}} {
		b.Run(tc.name, func(b *testing.B) {
			br := New()
			var s *Subscriber
			subscribe := func() {
				if tc.filter != nil {
					s, _ = br.Subscribe(*tc.filter, DefaultBuffer)
				}
			}
			subscribe()
			b.ReportAllocs()
			now := time.Now()
			for b.Loop() {
				br.PublishAppended(reqs, res, now)
				if s != nil {
					select {
					case <-s.Done():
						subscribe()
					default:
					}
				}
			}
		})
	}
}

// TestEncodeEventIsJSONMarshal: the hand-written encoder says what
// json.Marshal says, on one line.
func TestEncodeEventIsJSONMarshal(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890, time.FixedZone("X", 3600))
	tests := []Event{
		{ID: "evt_1", Connection: "c", Type: "order", ReceivedAt: at, Payload: json.RawMessage(`{"a":1}`)},
		{Connection: "c", ReceivedAt: at, Payload: json.RawMessage("[1,\n 2]")},
		{ID: "x", Connection: "q\"uote\\ <b>&\n\t\x01 é \u2028 \xff", Type: "t", ReceivedAt: at, Payload: json.RawMessage(`"s"`)},
	}
	for _, ev := range tests {
		got, err := encodeEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(ev)
		if !bytes.Equal(got, want) {
			t.Errorf("encodeEvent:\n%s\njson.Marshal:\n%s", got, want)
		}
	}
	if _, err := encodeEvent(Event{Connection: "c", Payload: json.RawMessage(`{not json`)}); err == nil {
		t.Error("a payload that is not JSON was encoded")
	}
}
