package s3

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/junctionhub/junction/builtin/internal/records/fileimport"
)

// source is one entity's prefix, for fileimport.
type source struct {
	c *Connector
	e *entity
}

func (s *source) Where() string { return s.c.where() }

// Next lists the prefix in key order and returns the first object to
// import: without archive_prefix, the first after the last key imported;
// with it, the first not waiting to be archived.
func (s *source) Next(ctx context.Context, cur *fileimport.Cursor) (*fileimport.FileID, error) {
	in := &awss3.ListObjectsV2Input{
		Bucket:    aws.String(s.c.set.bucket),
		Prefix:    aws.String(s.e.cfg.Prefix),
		Delimiter: aws.String("/"),
	}
	if !s.e.Archive && cur.After != "" {
		in.StartAfter = aws.String(cur.After)
	}
	for {
		out, err := s.c.client.ListObjectsV2(ctx, in)
		if err != nil {
			return nil, s.c.describe(ctx, err, "list %s", s.e.cfg.Prefix)
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			name := key[strings.LastIndex(key, "/")+1:]
			if name == "" || strings.HasPrefix(name, ".") || !s.e.cfg.Matches(name) || cur.IsPendingArchive(key) {
				continue
			}
			return &fileimport.FileID{Name: key, Size: aws.ToInt64(o.Size), Version: aws.ToString(o.ETag)}, nil
		}
		if !aws.ToBool(out.IsTruncated) || out.NextContinuationToken == nil {
			return nil, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// Imported remembers the last key imported: listing starts after it.
func (s *source) Imported(cur *fileimport.Cursor, id fileimport.FileID) { cur.After = id.Name }

// Open GETs the object from offset (a ranged GET) and checks its ETag.
func (s *source) Open(ctx context.Context, id fileimport.FileID, offset int64) (fileimport.Handle, error) {
	if offset >= id.Size {
		return emptyHandle{}, nil
	}
	// The body may be read by later calls (the importer keeps it open), so
	// the request runs under the connector's context; this call's context
	// only aborts the request itself.
	reqCtx, cancel := context.WithCancel(s.c.bg)
	stop := context.AfterFunc(ctx, cancel)
	in := &awss3.GetObjectInput{Bucket: aws.String(s.c.set.bucket), Key: aws.String(id.Name)}
	if offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", offset))
	}
	out, err := s.c.client.GetObject(reqCtx, in)
	if !stop() {
		cancel()
		return nil, s.c.describe(ctx, ctx.Err(), "get %s", id.Name)
	}
	if err != nil {
		cancel()
		if notFound(err) {
			return nil, fmt.Errorf("%s: %w", id.Name, fileimport.ErrGone)
		}
		return nil, s.c.describe(ctx, err, "get %s", id.Name)
	}
	if etag := aws.ToString(out.ETag); etag != id.Version {
		_ = out.Body.Close()
		cancel()
		return nil, fmt.Errorf("%s: ETag now %s, was %s: %w", id.Name, etag, id.Version, fileimport.ErrChanged)
	}
	return &body{rc: out.Body, cancel: cancel}, nil
}

// Archive copies an imported object under archive_prefix, then deletes it.
// The copy is conditional on the ETag imported: an object replaced since
// is left in place, to be imported as a new one. An object already gone
// was archived before (or removed): nothing to do.
func (s *source) Archive(ctx context.Context, id fileimport.FileID) error {
	bucket := s.c.set.bucket
	dst := s.e.cfg.ArchivePrefix + id.Name[strings.LastIndex(id.Name, "/")+1:]
	_, err := s.c.client.CopyObject(ctx, &awss3.CopyObjectInput{
		Bucket:            aws.String(bucket),
		Key:               aws.String(dst),
		CopySource:        aws.String((&url.URL{Path: bucket + "/" + id.Name}).EscapedPath()),
		CopySourceIfMatch: aws.String(id.Version),
	})
	switch {
	case notFound(err):
		s.c.log.Info("imported object already moved or removed", "key", id.Name)
		return nil
	case isPrecondition(err):
		s.c.log.Warn("imported object was replaced; left in place", "key", id.Name)
		return nil
	case err != nil:
		return s.c.describe(ctx, err, "copy %s to %s", id.Name, dst)
	}
	if _, err := s.c.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(id.Name)}); err != nil && !notFound(err) {
		return s.c.describe(ctx, err, "delete %s after copying it to %s", id.Name, dst)
	}
	return nil
}

// body is a GET response being read.
type body struct {
	rc     io.ReadCloser
	cancel context.CancelFunc
}

func (b *body) Read(p []byte) (int, error) { return b.rc.Read(p) }

func (b *body) Close() error {
	err := b.rc.Close()
	b.cancel()
	return err
}

// Abort cancels the request, which ends a blocked Read.
func (b *body) Abort() { b.cancel() }

// emptyHandle is the end of an object already read whole.
type emptyHandle struct{}

func (emptyHandle) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyHandle) Close() error             { return nil }
func (emptyHandle) Abort()                   {}
