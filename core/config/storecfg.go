package config

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Store engines (Settings key store.type).
const (
	StoreBadger    = "badger"
	StoreJetStream = "jetstream"
)

// StoreSettings selects the engine that keeps the event log, runs, KV and
// secrets (Settings key store). YAML:
//
//	store:
//	  type: jetstream             # badger (default: the data dir) | jetstream
//	  url: nats://n1:4222,nats://n2:4222,nats://n3:4222
//	  replicas: 3                 # copies of every write; default 3
//	  credentials: nats.creds     # optional NATS credentials file
//	  stream: JUNCTION            # stream name and subject prefix; default JUNCTION
//	  node: eu-1                  # this node's name; default the host name
//
// Every key but type and node is for jetstream only. The --store flag of serve
// overrides type and url.
type StoreSettings struct {
	Type        string
	URL         string
	Replicas    int
	Credentials string
	Stream      string
	// Node names this node in runs (which node ran each task), leases and
	// metrics; empty means the host name (NodeName). Nodes sharing a
	// stream need distinct names.
	Node string
}

// DefaultStoreReplicas keeps each acknowledged write on a quorum of three
// servers: one server's loss loses nothing.
const DefaultStoreReplicas = 3

// DefaultStoreStream is the JetStream stream's default name.
const DefaultStoreStream = "JUNCTION"

// DefaultStore is the store used when Settings sets none.
func DefaultStore() StoreSettings { return StoreSettings{Type: StoreBadger} }

var (
	storeStreamName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	nodeName        = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
)

// NodeName is the node's name: s.Node, else the host name, else "node".
func (s StoreSettings) NodeName() string {
	if s.Node != "" {
		return s.Node
	}
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "node"
}

// store decodes a store block.
func (d *decoder) store(n *yaml.Node, path string) StoreSettings {
	s := DefaultStore()
	o := d.object(n, path, "type", "url", "replicas", "credentials", "stream", "node")
	if o == nil {
		return s
	}
	if v := o.get("type"); v != nil {
		if t, ok := d.str(v, o.sub("type")); ok {
			s.Type = t
		}
	}
	str := func(key string, dst *string) {
		if v := o.get(key); v != nil {
			*dst, _ = d.str(v, o.sub(key))
		}
	}
	str("url", &s.URL)
	str("credentials", &s.Credentials)
	str("stream", &s.Stream)
	str("node", &s.Node)
	if s.Node != "" && !nodeName.MatchString(s.Node) {
		d.errorf(deref(o.get("node")), o.sub("node"), "want 1-64 letters, digits, '.', '_' or '-', got %q", s.Node)
	}
	if v := o.get("replicas"); v != nil {
		if r, ok := d.positiveInt(v, o.sub("replicas")); ok {
			if r > 5 {
				d.errorf(deref(v), o.sub("replicas"), "want 1 to 5, got %d", r)
			}
			s.Replicas = r
		}
	}
	switch s.Type {
	case StoreBadger:
		for _, key := range []string{"url", "replicas", "credentials", "stream"} {
			if v := o.get(key); v != nil {
				d.errorf(deref(v), o.sub(key), "only for type jetstream; type is badger")
			}
		}
	case StoreJetStream:
		if d.require(o, "url") {
			if err := CheckNATSURL(s.URL); err != nil {
				d.errorf(deref(o.get("url")), o.sub("url"), "%v", err)
			}
		}
		if s.Replicas == 0 {
			s.Replicas = DefaultStoreReplicas
		}
		if s.Stream == "" {
			s.Stream = DefaultStoreStream
		} else if !storeStreamName.MatchString(s.Stream) {
			d.errorf(deref(o.get("stream")), o.sub("stream"), "want 1-64 letters, digits, '_' or '-', got %q", s.Stream)
		}
	default:
		d.errorf(deref(o.get("type")), o.sub("type"), "unknown store type %q; want badger or jetstream", s.Type)
	}
	return s
}

// CheckNATSURL checks a comma-separated list of NATS server URLs.
func CheckNATSURL(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty NATS URL")
	}
	for _, part := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil {
			return fmt.Errorf("NATS URL: %w", err)
		}
		switch u.Scheme {
		case "nats", "tls":
		default:
			return fmt.Errorf("NATS URL %q: want nats:// or tls://", u.Redacted())
		}
		if u.Host == "" {
			return fmt.Errorf("NATS URL %q: no host", u.Redacted())
		}
	}
	return nil
}

// StoreFromFlag is the store a --store flag names: "badger", or a NATS URL
// (nats://host:4222[,...]) for jetstream, keeping the other jetstream keys
// of base.
func StoreFromFlag(flag string, base StoreSettings) (StoreSettings, error) {
	if flag == StoreBadger {
		d := DefaultStore()
		d.Node = base.Node
		return d, nil
	}
	if err := CheckNATSURL(flag); err != nil {
		return base, fmt.Errorf("--store: want badger or a nats:// URL: %w", err)
	}
	s := base
	if s.Type != StoreJetStream {
		s = StoreSettings{Type: StoreJetStream, Replicas: DefaultStoreReplicas, Stream: DefaultStoreStream, Node: base.Node}
	}
	s.URL = flag
	return s, nil
}
