package gopluginhost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/junctionhub/junction/pluginsdk/goplugin"

	"github.com/junctionhub/junction/pluginsdk"
)

// Backoff bounds the delay before restarting a crashed plugin. The delay
// starts at Min and doubles with each restart that follows a short-lived
// process, up to Max.
type Backoff struct {
	Min, Max time.Duration
}

// Options configure Start.
type Options struct {
	// Path is the plugin executable.
	Path string
	// Logger receives the plugin's log records and stderr, and restart
	// notices; nil discards them.
	Logger *slog.Logger
	// RestartBackoff defaults to {100ms, 30s}.
	RestartBackoff Backoff
	// HealthInterval is how often the process is pinged; default 1s.
	HealthInterval time.Duration
	// Env is added to the child's minimal environment (KEY=VALUE).
	Env []string
}

// Connector is a plugin process seen as a pluginsdk.Connector. It
// implements every role; a call of a role the plugin's spec does not declare
// fails with a permanent error. Close it to stop the process.
type Connector struct {
	opts Options
	log  *slog.Logger
	spec pluginsdk.Spec

	mu     sync.Mutex
	cur    *instance          // nil while (re)starting
	ready  chan struct{}      // closed when cur is set or the connector closed
	pc     *pluginsdk.Context // the last Context Configure accepted
	pcGen  int                // counts Configure calls that succeeded
	closed bool

	lost     chan *instance // a call or the health check saw cur die
	stop     chan struct{}
	done     chan struct{}
	restarts int
}

var (
	_ pluginsdk.Connector        = (*Connector)(nil)
	_ pluginsdk.Receiver         = (*Connector)(nil)
	_ pluginsdk.Fetcher          = (*Connector)(nil)
	_ pluginsdk.MetadataProvider = (*Connector)(nil)
	_ pluginsdk.Performer        = (*Connector)(nil)
)

// Start launches the plugin at o.Path, reads its spec, and supervises the
// process until Close. ctx bounds the first start only.
func Start(ctx context.Context, o Options) (*Connector, error) {
	if o.Path == "" {
		return nil, errors.New("start go-plugin connector: empty path")
	}
	if o.RestartBackoff.Min <= 0 {
		o.RestartBackoff.Min = 100 * time.Millisecond
	}
	if o.RestartBackoff.Max < o.RestartBackoff.Min {
		o.RestartBackoff.Max = max(30*time.Second, o.RestartBackoff.Min)
	}
	if o.HealthInterval <= 0 {
		o.HealthInterval = time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Connector{
		opts: o,
		log:  log.With("plugin", o.Path),
		lost: make(chan *instance, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	inst, err := c.launch(ctx)
	if err != nil {
		return nil, fmt.Errorf("start go-plugin connector %s: %w", o.Path, err)
	}
	spec, err := inst.client.Spec(ctx)
	if err == nil && spec.ABI != pluginsdk.ABIVersion {
		err = fmt.Errorf("plugin speaks connector ABI %d, this host speaks %d", spec.ABI, pluginsdk.ABIVersion)
	}
	if err != nil {
		inst.kill()
		return nil, fmt.Errorf("start go-plugin connector %s: spec: %w", o.Path, err)
	}
	c.spec = spec
	c.log = log.With("plugin", spec.Name+"@"+spec.Version)
	c.cur = inst
	c.ready = make(chan struct{})
	close(c.ready)
	go c.supervise(inst)
	return c, nil
}

// Spec returns the spec the plugin reported at Start.
func (c *Connector) Spec() pluginsdk.Spec { return c.spec }

// PID is the current plugin process ID, or 0 while it is being restarted.
func (c *Connector) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return 0
	}
	return c.cur.pid
}

// Direct reports whether calls to the current process use the direct
// socket rather than go-plugin's multiplexed connection (see
// pluginsdk/goplugin); false while restarting.
func (c *Connector) Direct() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur != nil && c.cur.client.Direct()
}

// Restarts counts the processes started after the first.
func (c *Connector) Restarts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.restarts
}

// Configure configures the plugin and remembers pc, to configure the
// processes that replace a crashed one the same way.
func (c *Connector) Configure(ctx context.Context, pc *pluginsdk.Context) error {
	for {
		inst, err := c.instance(ctx, "configure")
		if err != nil {
			return err
		}
		if err := c.result(inst, "configure", inst.client.Configure(ctx, pc)); err != nil {
			return err
		}
		c.mu.Lock()
		c.pc = pc
		c.pcGen++
		inst.pcGen = c.pcGen
		// A restart that published its process while this call ran
		// configured it with the previous Context: configure it too.
		stale := c.cur != nil && c.cur.pcGen != c.pcGen
		c.mu.Unlock()
		if !stale {
			return nil
		}
	}
}

// Receive forwards an inbound push request to the plugin.
func (c *Connector) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	inst, err := c.role(ctx, pluginsdk.RoleReceive)
	if err != nil {
		return nil, err
	}
	res, err := inst.client.Receive(ctx, req)
	return res, c.result(inst, "receive", err)
}

// Fetch asks the plugin for the batch after req.Cursor.
func (c *Connector) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	inst, err := c.role(ctx, pluginsdk.RoleFetch)
	if err != nil {
		return nil, err
	}
	res, err := inst.client.Fetch(ctx, req)
	return res, c.result(inst, "fetch", err)
}

// Metadata asks the plugin for its entities and fields.
func (c *Connector) Metadata(ctx context.Context) (*pluginsdk.MetadataResult, error) {
	inst, err := c.role(ctx, pluginsdk.RoleMetadata)
	if err != nil {
		return nil, err
	}
	res, err := inst.client.Metadata(ctx)
	return res, c.result(inst, "metadata", err)
}

// Perform asks the plugin to carry out an action.
func (c *Connector) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	inst, err := c.role(ctx, pluginsdk.RolePerform)
	if err != nil {
		return nil, err
	}
	res, err := inst.client.Perform(ctx, req)
	return res, c.result(inst, "perform", err)
}

// Close stops supervising, kills the process and waits until it is reaped.
func (c *Connector) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.done
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stop)
	<-c.done
	return nil
}

func (c *Connector) role(ctx context.Context, role string) (*instance, error) {
	if !c.spec.HasRole(role) {
		return nil, &pluginsdk.Error{Code: "not_implemented", Message: fmt.Sprintf("go-plugin connector %s does not implement %s", c.spec.Name, role)}
	}
	return c.instance(ctx, role)
}

// instance returns the live process, waiting for a restart in progress.
func (c *Connector) instance(ctx context.Context, op string) (*instance, error) {
	for {
		c.mu.Lock()
		inst, ready, closed := c.cur, c.ready, c.closed
		c.mu.Unlock()
		if closed {
			return nil, pluginsdk.Errorf("go-plugin connector %s: %s: connector closed", c.spec.Name, op)
		}
		if inst != nil {
			return inst, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, &pluginsdk.Error{Code: "plugin_restarting", Retryable: true,
				Message: fmt.Sprintf("go-plugin connector %s: %s: plugin process is restarting: %v", c.spec.Name, op, ctx.Err())}
		}
	}
}

// result classifies a call's error. Connector errors pass unchanged; a broken
// connection means the process died, which fails this call as retryable and
// starts a restart.
func (c *Connector) result(inst *instance, op string, err error) error {
	if err == nil {
		return nil
	}
	var te *goplugin.TransportError
	if !errors.As(err, &te) {
		var pe *pluginsdk.Error
		if errors.As(err, &pe) {
			return pe
		}
		// ctx ended: keep it recognisable for errors.Is.
		return fmt.Errorf("go-plugin connector %s: %s: %w", c.spec.Name, op, err)
	}
	if !te.Broken() {
		return &pluginsdk.Error{Code: "plugin_protocol", Message: fmt.Sprintf("go-plugin connector %s: %s: %v", c.spec.Name, op, te)}
	}
	c.reportLost(inst)
	return &pluginsdk.Error{Code: "plugin_exited", Retryable: true,
		Message: fmt.Sprintf("go-plugin connector %s: plugin process exited during %s: %v", c.spec.Name, op, te.Err)}
}

// reportLost tells the supervisor inst died, once; it stops handing inst
// out at once so later calls wait for the restart.
func (c *Connector) reportLost(inst *instance) {
	c.mu.Lock()
	if c.cur != inst {
		c.mu.Unlock()
		return
	}
	c.cur = nil
	c.ready = make(chan struct{})
	c.mu.Unlock()
	select {
	case c.lost <- inst:
	default:
	}
}
