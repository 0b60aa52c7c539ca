package gopluginhost

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/junctionhub/junction/pluginsdk/goplugin"
)

// instance is one plugin process.
type instance struct {
	proc    *plugin.Client
	rpc     plugin.ClientProtocol
	client  *goplugin.Client
	pid     int
	started time.Time
	pcGen   int    // the Configure generation this process was configured with
	tmp     string // the process's TMPDIR, removed once it is reaped
}

// kill stops the process (go-plugin asks it to quit, then kills it after a
// grace period) and waits until it is reaped and every goroutine serving it
// has returned.
func (i *instance) kill() {
	i.proc.Kill()
	_ = i.client.Close() // the session is gone: nothing left to report
	i.client.Wait()
	_ = os.RemoveAll(i.tmp)
}

// childEnv is what a plugin process sees of the environment: enough to run
// and to make TLS connections, none of the host's secrets.
func childEnv(extra []string) []string {
	var env []string
	for _, k := range []string{"PATH", "TMPDIR", "HOME", "LANG", "LC_ALL", "TZ", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

// launch starts a process and dispenses its connector.
func (c *Connector) launch(ctx context.Context) (*instance, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := time.Minute
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	// A private TMPDIR holds the process's sockets and whatever temporary
	// files it leaves, and goes when it is reaped, even after a crash. The
	// name is short because Unix socket paths are limited to ~104 bytes.
	tmp, err := os.MkdirTemp("", "jgp-")
	if err != nil {
		return nil, fmt.Errorf("plugin temporary directory: %w", err)
	}
	cmd := exec.Command(c.opts.Path)
	cmd.Env = append(childEnv(c.opts.Env), "TMPDIR="+tmp)
	dieWithParent(cmd)
	proc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  goplugin.Handshake,
		Plugins:          goplugin.PluginSet(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
		Logger:           newHCLogger(c.log),
		StartTimeout:     timeout,
		SkipHostEnv:      true,
	})
	fail := func(err error) (*instance, error) {
		proc.Kill()
		_ = os.RemoveAll(tmp)
		return nil, err
	}
	rpc, err := proc.Client()
	if err != nil {
		return fail(err)
	}
	raw, err := rpc.Dispense(goplugin.PluginName)
	if err != nil {
		return fail(fmt.Errorf("dispense connector: %w", err))
	}
	client, ok := raw.(*goplugin.Client)
	if !ok {
		return fail(fmt.Errorf("dispense connector: got %T", raw))
	}
	pid, _ := strconv.Atoi(proc.ID())
	return &instance{proc: proc, rpc: rpc, client: client, pid: pid, started: time.Now(), tmp: tmp}, nil
}

// supervise owns the process: it pings it, replaces it when it dies, and
// kills it on Close.
func (c *Connector) supervise(inst *instance) {
	defer close(c.done)
	tick := time.NewTicker(c.opts.HealthInterval)
	defer tick.Stop()
	attempt := 0
	for {
		select {
		case <-c.stop:
			c.shutdown()
			return
		case dead := <-c.lost:
			if dead != inst {
				continue // a late report about a process already replaced
			}
		case <-tick.C:
			err := c.check(inst)
			if err == nil {
				continue
			}
			c.log.Warn("plugin process failed its health check", "pid", inst.pid, "error", err)
			c.mu.Lock()
			if c.cur == inst {
				c.cur = nil
				c.ready = make(chan struct{})
			}
			c.mu.Unlock()
		}
		lived := time.Since(inst.started)
		inst.kill()
		c.log.Warn("plugin process exited; restarting", "pid", inst.pid, "lived", lived.Round(time.Millisecond))
		if lived >= c.opts.RestartBackoff.Max {
			attempt = 0 // it ran long enough: this crash is not a crash loop
		}
		if inst = c.restart(&attempt); inst == nil {
			c.shutdown()
			return
		}
	}
}

// check pings the process; a process that does not answer in time counts as
// dead (hung or stopped).
func (c *Connector) check(inst *instance) error {
	if inst.proc.Exited() {
		return errors.New("process exited")
	}
	res := make(chan error, 1)
	// Ping has no timeout of its own; the goroutine returns at the latest
	// when the process is killed and the session closes.
	go func() { res <- inst.rpc.Ping() }()
	// A busy machine can delay an answer by more than a short interval;
	// only a process silent for seconds is taken for hung.
	timeout := max(c.opts.HealthInterval, 2*time.Second)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-res:
		return err
	case <-t.C:
		return fmt.Errorf("no answer to ping within %s", timeout)
	case <-c.stop:
		return nil // Close is about to kill it anyway
	}
}

// restart starts a replacement process, configured with the saved Context,
// retrying with backoff. It returns nil if the connector is closed first.
func (c *Connector) restart(attempt *int) *instance {
	for {
		delay := c.opts.RestartBackoff.Min << min(*attempt, 20)
		if delay > c.opts.RestartBackoff.Max || delay <= 0 {
			delay = c.opts.RestartBackoff.Max
		}
		*attempt++
		t := time.NewTimer(delay)
		select {
		case <-c.stop:
			t.Stop()
			return nil
		case <-t.C:
		}
		inst, err := c.startConfigured()
		if err != nil {
			c.log.Error("restart plugin process", "attempt", *attempt, "error", err)
			continue
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			inst.kill()
			return nil
		}
		if inst.pcGen != c.pcGen {
			// Configure succeeded on the old process while this one
			// started: start over so it gets the newer Context.
			c.mu.Unlock()
			inst.kill()
			continue
		}
		c.cur = inst
		c.restarts++
		close(c.ready)
		c.mu.Unlock()
		c.log.Info("plugin process restarted", "pid", inst.pid, "attempt", *attempt)
		return inst
	}
}

func (c *Connector) startConfigured() (*instance, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() {
		select {
		case <-c.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	inst, err := c.launch(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.reconfigure(ctx, inst); err != nil {
		inst.kill()
		return nil, err
	}
	return inst, nil
}

// reconfigure configures inst with the saved Context, if any.
func (c *Connector) reconfigure(ctx context.Context, inst *instance) error {
	c.mu.Lock()
	pc, gen := c.pc, c.pcGen
	c.mu.Unlock()
	if pc == nil {
		return nil
	}
	if err := inst.client.Configure(ctx, pc); err != nil {
		return fmt.Errorf("configure: %w", err)
	}
	inst.pcGen = gen
	return nil
}

// shutdown kills the live process, if any, and wakes every caller waiting
// for a restart so it sees the connector closed.
func (c *Connector) shutdown() {
	c.mu.Lock()
	inst := c.cur
	c.cur = nil
	if inst == nil {
		close(c.ready)
	}
	c.mu.Unlock()
	if inst != nil {
		inst.kill()
	}
}
