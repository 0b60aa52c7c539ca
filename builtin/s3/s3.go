// Package s3 is the builtin `s3` connector: it imports CSV, NDJSON and JSON
// objects from a bucket of AWS S3 or any S3-compatible server (one event
// per record) and, as the `export` action, writes records to an object.
//
// Design notes:
//   - aws-sdk-go-v2 with static credentials, path-style addressing on
//     request, and checksums only where S3 requires them (S3-compatible
//     servers often reject the newer defaults).
//   - The SDK needs a net/http client, so the connector cannot use the
//     host's guarded HTTP client; its own dialer refuses internal
//     addresses unless config.allow_private is set (see newClient).
//   - The import loop, cursor and malformed-file policy are
//     builtin/internal/records/fileimport's. Objects are listed with
//     ListObjectsV2 (continuation tokens; start-after the last key imported)
//     in key order, identified by key, size and ETag, checked whole before
//     the first batch, and read with ranged GETs from the cursor's byte
//     offset after a restart. With archive_prefix an imported object is
//     copied there and deleted, at the start of the Fetch after its last
//     batch was committed.
//   - Exports are one PutObject up to part_size (8 MiB), a multipart upload
//     beyond it; an object appears only when complete, and a failed upload
//     is aborted.
package s3

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/junctionhub/junction/builtin/internal/records/fileimport"
	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

func init() {
	connector.Register(connector.Builtin{Name: "s3", New: New})
}

// Connector is the s3 connector; create it with New, Configure it, and
// Close it to release its connections.
type Connector struct {
	conn     string
	set      settings
	log      *slog.Logger
	imp      *fileimport.Importer
	client   *awss3.Client
	tr       *http.Transport
	partSize int64
	// bg outlives a single call: a response body kept open between
	// batches reads under it. Close cancels it.
	bg     context.Context
	cancel context.CancelFunc
}

var (
	_ pluginsdk.Fetcher          = (*Connector)(nil)
	_ pluginsdk.MetadataProvider = (*Connector)(nil)
	_ pluginsdk.Performer        = (*Connector)(nil)
)

// New returns an unconfigured s3 connector.
func New() pluginsdk.Connector { return &Connector{} }

// Spec describes the connector; once configured, its entities are the
// configured ones.
func (c *Connector) Spec() pluginsdk.Spec { return spec(c.set.entities, c.imp != nil) }

// Configure checks the connection's config and auth and builds the client.
// It does no I/O.
func (c *Connector) Configure(_ context.Context, pc *pluginsdk.Context) error {
	set, err := parseConfig(pc)
	if err != nil {
		return pluginsdk.Errorf("connection %s: %v", pc.Connection, err)
	}
	c.Close()
	c.conn, c.set = pc.Connection, set
	c.log = pc.Log
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.imp = fileimport.New(c.log)
	c.client, c.tr = newClient(set)
	c.partSize = set.partSize
	c.bg, c.cancel = context.WithCancel(context.Background())
	return nil
}

// Close releases open responses and idle connections.
func (c *Connector) Close() error {
	if c.imp != nil {
		c.imp.Close()
	}
	if c.cancel != nil {
		c.cancel()
	}
	if c.tr != nil {
		c.tr.CloseIdleConnections()
	}
	return nil
}

// String names the connector and connection in logs.
func (c *Connector) String() string { return fmt.Sprintf("s3 connection %s", c.conn) }

func (c *Connector) where() string {
	return fmt.Sprintf("s3 bucket %q at %s", c.set.bucket, c.set.endpointName())
}

func (c *Connector) entity(name string) (*entity, error) {
	if c.imp == nil {
		return nil, pluginsdk.Errorf("s3: connector is not configured")
	}
	i, err := fileimport.Pick(len(c.set.entities), func(i int) string { return c.set.entities[i].Name }, name, c.where())
	if err != nil {
		return nil, err
	}
	return &c.set.entities[i], nil
}

// Fetch imports the next batch of an entity's objects.
func (c *Connector) Fetch(ctx context.Context, req *pluginsdk.FetchRequest) (*pluginsdk.FetchResult, error) {
	e, err := c.entity(req.Entity)
	if err != nil {
		return nil, err
	}
	return c.imp.Fetch(ctx, &source{c: c, e: e}, e.Entity, req.Cursor, req.Limit)
}

// Metadata lists the configured entities with the fields of an object of
// each (header and a few rows for types).
func (c *Connector) Metadata(ctx context.Context) (*pluginsdk.MetadataResult, error) {
	if c.imp == nil {
		return nil, pluginsdk.Errorf("s3: connector is not configured")
	}
	return fileimport.Metadata(ctx, c.where(), len(c.set.entities), func(i int) (fileimport.Source, fileimport.Entity, string) {
		e := &c.set.entities[i]
		return &source{c: c, e: e}, e.Entity, fmt.Sprintf("%s objects under %s", e.Read.Format, e.cfg.Prefix)
	})
}
