package goplugin

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/rpc"
	"os"
	"runtime/debug"
	"sync"

	"github.com/hashicorp/go-plugin"
	"github.com/junctionhub/junction/pluginsdk"
)

// connectorServer runs in the plugin process and serves the connector's
// methods to the host.
type connectorServer struct {
	impl   pluginsdk.Connector
	broker *plugin.MuxBroker
	ep     *endpoint // nil: no direct path
	calls  *calls

	mu   sync.Mutex
	host *rpc.Client // host services of the latest Configure
}

func newConnectorServer(impl pluginsdk.Connector, b *plugin.MuxBroker, ep *endpoint) *connectorServer {
	return &connectorServer{impl: impl, broker: b, ep: ep, calls: newCalls(context.Background())}
}

// Endpoint opens the direct path (see direct.go) and says where it is.
func (s *connectorServer) Endpoint(args *EndpointArgs, reply *EndpointReply) error {
	if s.ep == nil {
		return errors.New("no direct endpoint")
	}
	calls := rpc.NewServer()
	if err := calls.RegisterName("Plugin", s); err != nil {
		return err
	}
	ep, err := s.ep.start(calls)
	if err != nil {
		logf("[WARN] direct endpoint unavailable, staying on go-plugin's connection: %v", err)
		return err
	}
	*reply = *ep
	return nil
}

// guard recovers a panic of the connector into the reply's error and logs
// the stack to stderr, which go-plugin forwards to the host's log.
func guard(errp **pluginsdk.Error) {
	if r := recover(); r != nil {
		fmt.Fprintf(os.Stderr, "[ERROR] connector panicked: %v\n%s", r, debug.Stack())
		*errp = recovered(r)
	}
}

// Cancel cancels a call whose host-side caller stopped waiting.
func (s *connectorServer) Cancel(args *CancelArgs, reply *Ack) error {
	s.calls.cancel(args.ID)
	return nil
}

func (s *connectorServer) Spec(args *SpecArgs, reply *SpecReply) error {
	defer guard(&reply.Err)
	reply.Spec = s.impl.Spec()
	return nil
}

func (s *connectorServer) Configure(args *ConfigureArgs, reply *Ack) error {
	defer guard(&reply.Err)
	ctx, done := s.calls.begin(args.Call)
	defer done()

	pc := &pluginsdk.Context{
		Connection: args.Connection,
		Config:     args.Config,
		Auth:       args.Auth,
		Secrets:    args.Secrets,
		BaseURL:    args.BaseURL,
	}
	var host *rpc.Client
	if args.HostID != 0 {
		var conn net.Conn
		var err error
		if args.HostDirect && s.ep != nil {
			conn, err = s.ep.takeHost(args.HostID)
		} else {
			conn, err = s.broker.Dial(args.HostID)
		}
		if err != nil {
			reply.Err = pluginsdk.Retryable("dial host services: %v", err)
			return nil
		}
		host = rpc.NewClient(conn)
		hc := &caller{rpc: host}
		if args.HasHTTP {
			pc.HTTP = &remoteHTTP{c: hc}
		}
		if args.HasKV {
			pc.KV = &remoteKV{c: hc}
		}
		if args.HasLog {
			pc.Log = newRemoteLogger(host, args.LogLevel)
		}
	}
	// A connector that accepts the new Context stops using the previous
	// one's host services; one that refuses it keeps the previous Context,
	// whose services must then stay open.
	accepted := false
	defer func() {
		s.mu.Lock()
		unused := host
		if accepted {
			unused, s.host = s.host, host
		}
		s.mu.Unlock()
		if unused != nil {
			if err := unused.Close(); err != nil {
				log.Printf("[DEBUG] close unused host services: %v", err)
			}
		}
	}()
	reply.Err = pluginsdk.AsError(s.impl.Configure(ctx, pc))
	accepted = reply.Err == nil
	return nil
}

func (s *connectorServer) Receive(args *ReceiveArgs, reply *ReceiveReply) error {
	defer guard(&reply.Err)
	r, ok := s.impl.(pluginsdk.Receiver)
	if !ok {
		reply.Err = notImplemented(s.impl, pluginsdk.RoleReceive)
		return nil
	}
	ctx, done := s.calls.begin(args.Call)
	defer done()
	res, err := r.Receive(ctx, &args.Req)
	reply.Result, reply.Err = res, pluginsdk.AsError(err)
	return nil
}

func (s *connectorServer) Fetch(args *FetchArgs, reply *FetchReply) error {
	defer guard(&reply.Err)
	f, ok := s.impl.(pluginsdk.Fetcher)
	if !ok {
		reply.Err = notImplemented(s.impl, pluginsdk.RoleFetch)
		return nil
	}
	ctx, done := s.calls.begin(args.Call)
	defer done()
	res, err := f.Fetch(ctx, &args.Req)
	reply.Result, reply.Err = res, pluginsdk.AsError(err)
	return nil
}

func (s *connectorServer) Metadata(args *MetadataArgs, reply *MetadataReply) error {
	defer guard(&reply.Err)
	m, ok := s.impl.(pluginsdk.MetadataProvider)
	if !ok {
		reply.Err = notImplemented(s.impl, pluginsdk.RoleMetadata)
		return nil
	}
	ctx, done := s.calls.begin(args.Call)
	defer done()
	res, err := m.Metadata(ctx)
	reply.Result, reply.Err = res, pluginsdk.AsError(err)
	return nil
}

func (s *connectorServer) Perform(args *PerformArgs, reply *PerformReply) error {
	defer guard(&reply.Err)
	p, ok := s.impl.(pluginsdk.Performer)
	if !ok {
		reply.Err = notImplemented(s.impl, pluginsdk.RolePerform)
		return nil
	}
	ctx, done := s.calls.begin(args.Call)
	defer done()
	res, err := p.Perform(ctx, &args.Req)
	reply.Result, reply.Err = res, pluginsdk.AsError(err)
	return nil
}

func notImplemented(c pluginsdk.Connector, role string) *pluginsdk.Error {
	return &pluginsdk.Error{Code: "not_implemented", Message: fmt.Sprintf("connector %s does not implement %s", c.Spec().Name, role)}
}
