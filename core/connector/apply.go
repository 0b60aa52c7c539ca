package connector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/pluginsdk"
)

// A hot reload changes the set of connections in three steps, so that
// nothing is half applied and no event is accepted under one set and
// dispatched under another:
//
//  1. Prepare opens the new and changed connections (their connectors
//     check config and auth) while the old set keeps serving. Any failure
//     closes what it opened and changes nothing.
//  2. Retire takes the removed connections out (404 from then on) and
//     waits for the pushes they were already handling, so that their
//     events are in the log before the caller switches the workflows.
//  3. Commit puts the new and changed connections in.
//
// An unchanged connection (config.SameConnection) keeps its connector:
// plugin instances and sessions go on. A changed one is reopened as
// Reconfigure does: calls in flight finish on the old connector, which is
// closed after a grace period.

// Acquire returns the named connection for one inbound push and holds it
// until release is called: Retire and Commit wait for the pushes holding
// a connection they retire. A push that looked the connection up just
// before a reload retired it looks it up again.
func (m *Manager) Acquire(name string) (c *Conn, release func(), ok bool) {
	for {
		c, ok = m.Get(name)
		if !ok {
			return nil, nil, false
		}
		c.gate.RLock()
		if !c.retired {
			return c, c.gate.RUnlock, true
		}
		c.gate.RUnlock()
	}
}

// retire marks c retired once no push holds it any more.
func (c *Conn) retire() {
	c.gate.Lock()
	c.retired = true
	c.gate.Unlock()
}

// Plan is a prepared change of the connection set.
type Plan struct {
	m      *Manager
	opened map[string]*Conn // new and changed connections, open
	// Added, Changed, Removed and Kept name the connections by what the
	// change does to them, sorted.
	Added, Changed, Removed, Kept []string
	done                          bool
}

// Prepare opens what conns add or change. On any error it closes what it
// opened and returns the problems as config.Errors, each at the YAML node
// it is about.
func (m *Manager) Prepare(ctx context.Context, conns []*config.Connection) (*Plan, error) {
	p := &Plan{m: m, opened: map[string]*Conn{}}
	want := map[string]bool{}
	var errs config.Errors
	for _, cc := range conns {
		want[cc.Name] = true
		old, exists := m.Get(cc.Name)
		if exists && config.SameConnection(old.Config, cc) {
			p.Kept = append(p.Kept, cc.Name)
			continue
		}
		c, err := m.open(ctx, m.o, cc)
		if err != nil {
			errs = append(errs, config.OpenError(cc, fmt.Sprintf("connection %s: %s", cc.Name, openMessage(err))))
			continue
		}
		p.opened[cc.Name] = c
		if exists {
			p.Changed = append(p.Changed, cc.Name)
		} else {
			p.Added = append(p.Added, cc.Name)
		}
	}
	for _, c := range m.All() {
		if !want[c.Name()] {
			p.Removed = append(p.Removed, c.Name())
		}
	}
	if len(errs) > 0 {
		p.Abort()
		return nil, errs
	}
	for _, l := range [][]string{p.Added, p.Changed, p.Removed, p.Kept} {
		sort.Strings(l)
	}
	return p, nil
}

// openMessage is the connector's own message, without the "code: " prefix
// of a pluginsdk.Error.
func openMessage(err error) string {
	var perr *pluginsdk.Error
	if errors.As(err, &perr) {
		return perr.Message
	}
	return err.Error()
}

// Retire takes the removed connections out and waits for the pushes they
// are handling. Their connectors close after the grace period.
func (p *Plan) Retire() {
	var gone []*Conn
	p.m.mu.Lock()
	for _, name := range p.Removed {
		if c, ok := p.m.conns[name]; ok {
			gone = append(gone, c)
			delete(p.m.conns, name)
		}
	}
	p.m.mu.Unlock()
	for _, c := range gone {
		c.retire()
		p.m.closeLater(c)
	}
}

// Commit puts the new and changed connections in. The replaced connectors
// finish the calls they are serving and close after the grace period.
func (p *Plan) Commit() {
	p.done = true
	var replaced []*Conn
	p.m.mu.Lock()
	for name, c := range p.opened {
		if old, ok := p.m.conns[name]; ok {
			replaced = append(replaced, old)
		}
		p.m.conns[name] = c
	}
	p.m.mu.Unlock()
	for _, c := range replaced {
		c.retire()
		p.m.closeLater(c)
	}
}

// Abort closes what Prepare opened; after Commit it does nothing.
func (p *Plan) Abort() {
	if p.done {
		return
	}
	p.done = true
	for name, c := range p.opened {
		if err := c.close(); err != nil {
			p.m.log.Warn("close connection opened for a reload that was refused", "connection", name, "err", err)
		}
	}
}

// closeLater closes a connector taken out of service after retireGrace,
// or at Close.
func (m *Manager) closeLater(old *Conn) {
	m.retired.Add(1)
	go func() {
		defer m.retired.Done()
		t := time.NewTimer(retireGrace)
		defer t.Stop()
		select {
		case <-t.C:
		case <-m.closing:
		}
		if err := old.close(); err != nil {
			m.log.Warn("close replaced connector", "connection", old.Name(), "err", err)
		}
	}()
}
