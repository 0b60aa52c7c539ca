// Package fileimport is the import loop shared by the file connectors
// (builtin/sftp, builtin/s3): it picks the next file of a folder, checks it
// whole, reads it in batches from the byte offset the cursor holds, and
// moves imported files to an archive only once their last batch is
// committed.
//
// How each remote side effect is made exact (ARCHITECTURE.md, Durability):
//
//   - The host commits a batch's events and the cursor returned with them
//     in one write, and only then calls Fetch again with that cursor. So a
//     cursor passed to Fetch is committed.
//   - A file whose last record was returned is put in Cursor.Archive (or
//     Cursor.Done when it stays in place). The move to the archive happens
//     at the start of the next Fetch: by then the cursor naming the file as
//     imported is durable. If the process dies after the move and before
//     the next commit, the move is repeated from the old cursor and finds
//     the file already moved; if the connection drops before the move, the
//     file is still listed in Archive and is never read again.
//   - A file is identified by name, size and version (mtime or ETag). The
//     file in progress is reopened at its committed byte offset after a
//     restart, never from the start; a file listed in Done is skipped.
//   - A malformed record rejects the whole file before any of its records
//     is returned (see Importer.Fetch), so a fixed file is imported once,
//     whole, rather than in two overlapping halves.
package fileimport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/junctionhub/junction/builtin/internal/records"
	"github.com/junctionhub/junction/pluginsdk"
)

// DefaultLimit is the batch size when the host gives none.
const DefaultLimit = 1000

// maxLimit bounds a batch whatever the host asks: a batch is held in memory.
const maxLimit = 100_000

// Errors a Source's Open returns when the file is no longer the one named.
var (
	ErrGone    = errors.New("file no longer exists")
	ErrChanged = errors.New("file changed")
)

// Source is one remote folder of files (an SFTP directory, an S3 prefix).
// Errors it returns should be *pluginsdk.Error where it knows whether a
// retry can help; any other error is treated as retryable.
type Source interface {
	// Where names the remote system in messages ("sftp host h:22").
	Where() string
	// Next returns the next file to import, or nil when there is none now.
	// It skips what c records as imported and may prune c.Done.
	Next(ctx context.Context, c *Cursor) (*FileID, error)
	// Open opens id for reading from offset; ErrGone or ErrChanged (wrapped)
	// when the file is no longer id.
	Open(ctx context.Context, id FileID, offset int64) (Handle, error)
	// Imported records id as imported in c, for a file that stays in place.
	Imported(c *Cursor, id FileID)
	// Archive moves an imported file to the archive. A file that is already
	// there (moved before a crash) is not an error.
	Archive(ctx context.Context, id FileID) error
}

// Handle is an open file.
type Handle interface {
	io.Reader
	Close() error
	// Abort makes a blocked Read fail; it is called from another goroutine
	// when the Fetch's context ends.
	Abort()
}

// Entity is what Fetch needs to know of one configured entity.
type Entity struct {
	Name string
	Read records.Options
	// Archive: imported files are moved away (Source.Archive) rather than
	// remembered in the cursor.
	Archive bool
}

// Importer runs imports. It keeps the file in progress open between Fetch
// calls, so that consecutive batches continue one read instead of reopening
// the file at each offset. It is safe for concurrent use.
type Importer struct {
	log  *slog.Logger
	mu   sync.Mutex
	open map[string]*openFile // by entity
}

type openFile struct {
	id   FileID
	h    Handle
	rd   *records.Reader
	buf  []byte
	kept bool // kept open since an earlier call
}

// New returns an Importer logging to log.
func New(log *slog.Logger) *Importer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Importer{log: log, open: map[string]*openFile{}}
}

// Close closes the files kept open.
func (im *Importer) Close() {
	im.mu.Lock()
	defer im.mu.Unlock()
	for k, of := range im.open {
		_ = of.h.Close()
		delete(im.open, k)
	}
}

// take returns the open file of entity if it stands exactly at p.
func (im *Importer) take(entity string, p *Progress) *openFile {
	im.mu.Lock()
	defer im.mu.Unlock()
	of := im.open[entity]
	if of == nil {
		return nil
	}
	delete(im.open, entity)
	pos := of.rd.Position()
	if of.id != p.File || pos.Offset != p.Offset || pos.Line != p.Line {
		_ = of.h.Close()
		return nil
	}
	return of
}

func (im *Importer) keep(entity string, of *openFile) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if old := im.open[entity]; old != nil {
		_ = old.h.Close()
	}
	im.open[entity] = of
}

// fail wraps a source's err as a *pluginsdk.Error prefixed with what
// failed, keeping whether it is retryable (an unknown error is: network
// faults are). The source's own "<where>: " prefix is dropped: what starts
// with it already.
func fail(src Source, err error, format string, args ...any) *pluginsdk.Error {
	pe := pluginsdk.AsError(err)
	msg := strings.TrimPrefix(pe.Message, src.Where()+": ")
	return &pluginsdk.Error{Code: pe.Code, Message: fmt.Sprintf(format, args...) + ": " + msg,
		Retryable: pe.Retryable, RetryAfter: pe.RetryAfter}
}

// Fetch returns the next batch of entity e after cursor (see the package
// doc for the protocol).
//
// Malformed records: a file is read once whole before its first batch, and a
// malformed record (a CSV row with the wrong number of fields, a bad quote,
// a line that is not a JSON object) rejects the file: Fetch fails with a
// permanent error naming the file and line, nothing of the file is
// imported, and the entity stops at that file until it is fixed or removed
// (files are imported in order, so a later file never overtakes it).
func (im *Importer) Fetch(ctx context.Context, src Source, e Entity, cursor []byte, limit int) (*pluginsdk.FetchResult, error) {
	what := fmt.Sprintf("%s: import %s", src.Where(), e.Name)
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("%s: %v", what, err)
	}
	c, err := DecodeCursor(cursor)
	if err != nil {
		return nil, pluginsdk.Errorf("%s: %v", what, err)
	}
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, maxLimit)

	// The cursor we were given is committed: the files it lists as imported
	// can now be moved without losing a record.
	for len(c.Archive) > 0 {
		id := c.Archive[0]
		if err := src.Archive(ctx, id); err != nil {
			return nil, fail(src, err, "%s: archive %s", what, id.Name)
		}
		im.log.Info("archived imported file", "entity", e.Name, "file", id.Name)
		c.Archive = c.Archive[1:]
	}
	c.Archive = nil

	if c.Cur == nil {
		id, err := src.Next(ctx, &c)
		if err != nil {
			return nil, fail(src, err, "%s: list files", what)
		}
		if id == nil {
			return &pluginsdk.FetchResult{Cursor: c.encode()}, nil
		}
		if err := im.check(ctx, src, e, *id); err != nil {
			return nil, err
		}
		c.Cur = &Progress{File: *id, Position: records.Position{Line: 1}}
	}
	return im.batch(ctx, src, e, &c, limit)
}

// check reads the whole file before its first batch (see Fetch).
func (im *Importer) check(ctx context.Context, src Source, e Entity, id FileID) error {
	what := fmt.Sprintf("%s: import %s: %s", src.Where(), e.Name, id.Name)
	h, err := src.Open(ctx, id, 0)
	if err != nil {
		return fail(src, err, "%s: open", what)
	}
	defer h.Close()
	stop := context.AfterFunc(ctx, h.Abort)
	defer stop()
	n, err := records.Validate(h, e.Read)
	var re *records.Error
	switch {
	case errors.As(err, &re):
		im.log.Warn("file rejected", "entity", e.Name, "file", id.Name, "line", re.Line, "error", re.Msg)
		return pluginsdk.Errorf("%s: file rejected, nothing imported from it: %v; fix or remove the file", what, re)
	case err != nil && ctx.Err() != nil:
		return pluginsdk.Retryable("%s: %v", what, ctx.Err())
	case err != nil:
		return fail(src, err, "%s: read", what)
	}
	im.log.Info("importing file", "entity", e.Name, "file", id.Name, "records", n, "bytes", id.Size)
	return nil
}

// batch reads up to limit records of the file in progress.
func (im *Importer) batch(ctx context.Context, src Source, e Entity, c *Cursor, limit int) (*pluginsdk.FetchResult, error) {
	cur := c.Cur
	what := fmt.Sprintf("%s: import %s: %s", src.Where(), e.Name, cur.File.Name)
	of := im.take(e.Name, cur)
	var events []pluginsdk.Event
	var eof bool
	for {
		if of == nil {
			h, err := src.Open(ctx, cur.File, cur.Offset)
			if errors.Is(err, ErrGone) || errors.Is(err, ErrChanged) {
				// Nothing more can be read of this version; a changed file
				// is listed again as a new one.
				im.log.Warn("file in progress is gone or changed; moving on", "entity", e.Name, "file", cur.File.Name,
					"line", cur.Line, "error", err)
				c.Cur = nil
				return &pluginsdk.FetchResult{Cursor: c.encode(), More: true}, nil
			}
			if err != nil {
				return nil, fail(src, err, "%s: open at byte %d", what, cur.Offset)
			}
			rd, err := records.NewReader(h, e.Read, cur.Position)
			if err != nil {
				_ = h.Close()
				return nil, pluginsdk.Errorf("%s: %v", what, err)
			}
			of = &openFile{id: cur.File, h: h, rd: rd}
		}
		var err error
		events, eof, err = im.read(ctx, of, e, cur.File.Name, limit)
		if err == nil {
			break
		}
		_ = of.h.Close()
		var re *records.Error
		switch {
		case ctx.Err() != nil:
			return nil, pluginsdk.Retryable("%s: %v", what, context.Cause(ctx))
		case errors.As(err, &re):
			return nil, pluginsdk.Errorf("%s: %v (the file changed after it was checked?)", what, re)
		case of.kept:
			// A file kept open since the last call died in between (an
			// idle connection dropped): read the batch again from the
			// cursor, over a new connection.
			im.log.Debug("reopening file", "entity", e.Name, "file", cur.File.Name, "error", err)
			of = nil
			continue
		}
		return nil, fail(src, err, "%s: read at line %d", what, of.rd.Position().Line)
	}
	if eof {
		_ = of.h.Close()
		if e.Archive {
			c.Archive = append(c.Archive, cur.File)
		} else {
			src.Imported(c, cur.File)
		}
		c.Cur = nil
		im.log.Info("imported file", "entity", e.Name, "file", cur.File.Name)
	} else {
		cur.Position = of.rd.Position()
		of.kept = true
		im.keep(e.Name, of)
	}
	// More after a finished file too: the next call archives it and looks
	// for the next file.
	return &pluginsdk.FetchResult{Events: events, Cursor: c.encode(), More: true}, nil
}

// read reads up to limit records of of; the context's end aborts it.
func (im *Importer) read(ctx context.Context, of *openFile, e Entity, file string, limit int) ([]pluginsdk.Event, bool, error) {
	stop := context.AfterFunc(ctx, of.h.Abort)
	events := make([]pluginsdk.Event, 0, min(limit, 4096))
	for len(events) < limit {
		rec, err := of.rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			stop()
			return nil, false, err
		}
		of.buf = records.AppendPayload(of.buf[:0], file, e.Name, rec)
		events = append(events, pluginsdk.Event{Payload: append([]byte(nil), of.buf...), Type: e.Name})
	}
	if !stop() {
		return nil, false, context.Cause(ctx)
	}
	return events, len(events) < limit, nil
}

// Sample infers the fields of entity e from the first file src would
// import (nil when the folder has none).
func Sample(ctx context.Context, src Source, e Entity, rows int) ([]pluginsdk.Field, error) {
	what := fmt.Sprintf("%s: metadata %s", src.Where(), e.Name)
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("%s: %v", what, err)
	}
	id, err := src.Next(ctx, &Cursor{V: cursorVersion})
	if err != nil {
		return nil, fail(src, err, "%s: list files", what)
	}
	if id == nil {
		return nil, nil
	}
	h, err := src.Open(ctx, *id, 0)
	if err != nil {
		return nil, fail(src, err, "%s: open %s", what, id.Name)
	}
	defer h.Close()
	stop := context.AfterFunc(ctx, h.Abort)
	defer stop()
	rd, err := records.NewReader(h, e.Read, records.Position{})
	if err != nil {
		return nil, pluginsdk.Errorf("%s: %v", what, err)
	}
	fields, err := records.Infer(rd, rows)
	var re *records.Error
	switch {
	case errors.As(err, &re):
		return nil, pluginsdk.Errorf("%s: %s: %v", what, id.Name, re)
	case err != nil:
		return nil, fail(src, err, "%s: read %s", what, id.Name)
	}
	return fields, nil
}
