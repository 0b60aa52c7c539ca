// Package sftp is the builtin `sftp` connector: it imports CSV, NDJSON and
// JSON files from a directory of an SFTP server (one event per record) and,
// as the `export` action, writes records to a file on the server.
//
// Design notes:
//   - The host key is always verified, against known_hosts lines or a
//     pinned SHA256 fingerprint; there is no way to skip the check.
//   - One SSH connection per connection, opened at the first call and
//     shared by every entity. A call that finds it broken drops it and
//     fails with a retryable error; the next call dials again. pkg/sftp
//     takes no context, so a context's end closes the connection under the
//     call.
//   - The import loop, cursor and malformed-file policy are
//     builtin/internal/records/fileimport's: files in (mtime, name) order,
//     each checked whole before its first batch, read in batches from the
//     byte offset in the cursor, archived only once committed.
//   - A file is identified by path, size and modification time. Without
//     archive_dir, imported files stay and the cursor remembers them (and
//     forgets a file once it is gone from the directory); a file that
//     changes is imported again as a new file.
//   - Files modified in the last min_age (30s) are left for later: a file
//     still being uploaded is not read half-way.
//   - Exports are written under a hidden temporary name in the target's
//     directory and renamed into place, so a reader never sees half a file.
package sftp

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/junctionhub/junction/builtin/internal/records/fileimport"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

func init() {
	connector.Register(connector.Builtin{Name: "sftp", New: New})
}

// Connector is the sftp connector; create it with New, Configure it, and
// Close it to release its connection.
type Connector struct {
	conn string
	set  settings
	log  *slog.Logger
	imp  *fileimport.Importer
	now  func() time.Time

	mu     sync.Mutex
	sess   *session
	closed bool
}

var (
	_ pluginsdk.Fetcher          = (*Connector)(nil)
	_ pluginsdk.MetadataProvider = (*Connector)(nil)
	_ pluginsdk.Performer        = (*Connector)(nil)
)

// New returns an unconfigured sftp connector.
func New() pluginsdk.Connector { return &Connector{now: time.Now} }

// Spec describes the connector; once configured, its entities are the
// configured ones.
func (c *Connector) Spec() pluginsdk.Spec { return spec(c.set.entities, c.imp != nil) }

// Configure checks the connection's config and auth. It does no I/O (a
// known_hosts file is read when connecting).
func (c *Connector) Configure(_ context.Context, pc *pluginsdk.Context) error {
	set, err := parseConfig(pc)
	if err != nil {
		return pluginsdk.Errorf("connection %s: %v", pc.Connection, err)
	}
	_ = c.Close() // a second Configure starts afresh
	c.mu.Lock()
	c.closed = false
	c.mu.Unlock()
	c.conn = pc.Connection
	c.set = set
	c.log = pc.Log
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.imp = fileimport.New(c.log)
	return nil
}

// Close closes the open files and the connection.
func (c *Connector) Close() error {
	if c.imp != nil {
		c.imp.Close()
	}
	c.mu.Lock()
	sess := c.sess
	c.sess, c.closed = nil, true
	c.mu.Unlock()
	if sess != nil {
		sess.close()
	}
	return nil
}

// String names the connector and connection in logs.
func (c *Connector) String() string { return fmt.Sprintf("sftp connection %s", c.conn) }

func (c *Connector) entity(name string) (*entity, error) {
	if c.imp == nil {
		return nil, pluginsdk.Errorf("sftp: connector is not configured")
	}
	i, err := fileimport.Pick(len(c.set.entities), func(i int) string { return c.set.entities[i].Name }, name, c.where())
	if err != nil {
		return nil, err
	}
	return &c.set.entities[i], nil
}

// Fetch imports the next batch of an entity's files.
func (c *Connector) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	e, err := c.entity(req.Entity)
	if err != nil {
		return nil, err
	}
	return c.imp.Fetch(ctx, &source{c: c, e: e}, e.Entity, req.Cursor, req.Limit)
}

// Metadata lists the configured entities with the fields of a file of
// each (header and a few rows for types).
func (c *Connector) Metadata(ctx context.Context) (*pluginsdk.MetadataResult, error) {
	if c.imp == nil {
		return nil, pluginsdk.Errorf("sftp: connector is not configured")
	}
	return fileimport.Metadata(ctx, c.where(), len(c.set.entities), func(i int) (fileimport.Source, fileimport.Entity, string) {
		e := &c.set.entities[i]
		return &source{c: c, e: e}, e.Entity, fmt.Sprintf("%s files in %s", e.Read.Format, e.cfg.Path)
	})
}
