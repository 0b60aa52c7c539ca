package tap

import (
	"bufio"
	"encoding/json"
	"time"
)

// PingEvery is how often an idle stream gets a comment line: proxies close
// streams that stay silent, and a write is how a gone client is noticed.
const PingEvery = 15 * time.Second

// Dropped is the data of the final `event: dropped`.
type Dropped struct {
	Reason string `json:"reason"`
	// Buffer is the subscriber's buffer size, in messages.
	Buffer int `json:"buffer"`
}

// StreamOptions tune Stream.
type StreamOptions struct {
	// BeforeWrite, when set, runs before each burst of writes; the HTTP
	// server uses it to push the connection's write deadline on, so that
	// a stream outlives the server's write timeout while a stuck client
	// does not.
	BeforeWrite func()
	// Ping is the keep-alive interval (default PingEvery).
	Ping time.Duration
	// Linger is how long the stream waits after a message for more to
	// join it in one write (default DefaultLinger).
	Linger time.Duration
}

// DefaultLinger: a person watching does not see 25 ms, and a stream that
// wakes at most 40 times a second instead of once per event costs ingest
// little; DefaultBuffer messages per 25 ms is ~160k events/s before a
// reader falls behind.
const DefaultLinger = 25 * time.Millisecond

// Stream writes s's messages to w as server-sent events until s ends or a
// write fails (the client went away), then closes s. It starts with
// `event: ready`; when s is dropped, the messages it had buffered are
// written, then `event: dropped` with a Dropped. A shutdown ends the stream
// after `event: dropped` too, with its reason.
func Stream(w *bufio.Writer, s *Subscriber, o StreamOptions) error {
	defer s.Close()
	if o.Ping <= 0 {
		o.Ping = PingEvery
	}
	if o.Linger <= 0 {
		o.Linger = DefaultLinger
	}
	linger := time.NewTimer(o.Linger)
	linger.Stop()
	before := func() {
		if o.BeforeWrite != nil {
			o.BeforeWrite()
		}
	}
	put := func(event string, data []byte) error {
		w.WriteString("event: ")
		w.WriteString(event)
		w.WriteString("\ndata: ")
		w.Write(data)
		_, err := w.WriteString("\n\n")
		return err
	}
	write := func(event string, data []byte) error {
		before()
		if err := put(event, data); err != nil {
			return err
		}
		return w.Flush()
	}
	ready, _ := json.Marshal(map[string]any{"connection": s.filter.Connection, "workflow": s.filter.Workflow, "buffer": s.Cap()})
	if err := write("ready", ready); err != nil {
		return err
	}
	tick := time.NewTicker(o.Ping)
	defer tick.Stop()
	for {
		select {
		case m := <-s.ch:
			before()
			if err := put(m.Kind, m.Data); err != nil {
				return err
			}
			// Under load, what comes within the linger goes out in the
			// same flush: the stream wakes and writes once per burst,
			// not once per message, which keeps the tap's cost on the
			// hub small. Sends into the buffer meanwhile wake nobody.
			linger.Reset(o.Linger)
			select {
			case <-linger.C:
			case <-s.done:
				linger.Stop()
			}
			if err := drain(s, put, cap(s.ch)); err != nil {
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
		case <-tick.C:
			before()
			if _, err := w.WriteString(": ping\n\n"); err != nil {
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
		case <-s.done:
			return finish(s, write)
		}
	}
}

// drain puts up to n messages that are already waiting.
func drain(s *Subscriber, put func(string, []byte) error, n int) error {
	for range n {
		select {
		case m := <-s.ch:
			if err := put(m.Kind, m.Data); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// finish writes what s still had buffered and, unless its owner closed it,
// why it ended.
func finish(s *Subscriber, write func(string, []byte) error) error {
	for {
		select {
		case m := <-s.ch:
			if err := write(m.Kind, m.Data); err != nil {
				return err
			}
			continue
		default:
		}
		break
	}
	if s.reason == nil {
		return nil
	}
	data, _ := json.Marshal(Dropped{Reason: s.reason.Error(), Buffer: s.Cap()})
	return write("dropped", data)
}
