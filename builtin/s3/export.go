package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/junctionhub/junction/builtin/internal/records"
	"github.com/junctionhub/junction/pluginsdk"
)

// exportResult is the export action's output.
type exportResult struct {
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
	Records int    `json:"records"`
	Bytes   int64  `json:"bytes"`
	ETag    string `json:"etag"`
	// Parts is the number of parts of a multipart upload (0: one PutObject).
	Parts int `json:"parts"`
}

// Perform runs the `export` action.
func (c *Connector) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if req.Action != "export" {
		return nil, pluginsdk.Errorf("s3: unknown action %q (s3 performs export)", req.Action)
	}
	if c.imp == nil {
		return nil, pluginsdk.Errorf("s3: connector is not configured")
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("%s: export: %v", c.where(), err)
	}
	x, err := records.ParseExport(req.Input, "key")
	if err != nil {
		return nil, pluginsdk.Errorf("s3 export: %v", err)
	}
	if strings.HasPrefix(x.Target, "/") {
		return nil, pluginsdk.Errorf("s3 export: input.key %q: keys do not start with /", x.Target)
	}
	u := &upload{c: c, ctx: ctx, key: x.Target, contentType: "text/csv; charset=utf-8"}
	if x.Format == records.NDJSON {
		u.contentType = "application/x-ndjson"
	}
	n, err := x.WriteTo(u)
	if err == nil {
		err = u.finish()
	}
	if err != nil {
		u.abort()
		return nil, c.describe(ctx, err, "export to %s", x.Target)
	}
	out, _ := json.Marshal(exportResult{Bucket: c.set.bucket, Key: x.Target, Records: len(x.Records), Bytes: n,
		ETag: u.etag, Parts: len(u.parts)})
	c.log.Info("exported", "key", x.Target, "records", len(x.Records), "bytes", n, "parts", len(u.parts))
	return &pluginsdk.PerformResult{Output: out}, nil
}

// upload buffers what is written to it up to one part: it ends as one
// PutObject when everything fits in a part, else as a multipart upload of
// parts uploaded as they fill, so memory stays at one part whatever the
// size.
type upload struct {
	c           *Connector
	ctx         context.Context
	key         string
	contentType string
	buf         bytes.Buffer
	id          *string // multipart upload ID, once started
	parts       []types.CompletedPart
	etag        string
}

func (u *upload) Write(p []byte) (int, error) {
	u.buf.Write(p)
	for int64(u.buf.Len()) >= u.c.partSize {
		if err := u.part(u.buf.Next(int(u.c.partSize))); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (u *upload) part(data []byte) error {
	c := u.c
	if u.id == nil {
		out, err := c.client.CreateMultipartUpload(u.ctx, &awss3.CreateMultipartUploadInput{
			Bucket: aws.String(c.set.bucket), Key: aws.String(u.key), ContentType: aws.String(u.contentType)})
		if err != nil {
			return err
		}
		u.id = out.UploadId
	}
	n := int32(len(u.parts) + 1)
	if n > maxParts {
		return pluginsdk.Errorf("%s: export to %s: more than %d parts; raise config.part_size", c.where(), u.key, maxParts)
	}
	out, err := c.client.UploadPart(u.ctx, &awss3.UploadPartInput{
		Bucket: aws.String(c.set.bucket), Key: aws.String(u.key), UploadId: u.id, PartNumber: aws.Int32(n),
		Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))})
	if err != nil {
		return fmt.Errorf("part %d: %w", n, err)
	}
	u.parts = append(u.parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	return nil
}

// finish stores what is left: the whole object, or the last part and the
// completion of the multipart upload.
func (u *upload) finish() error {
	c := u.c
	if u.id == nil {
		out, err := c.client.PutObject(u.ctx, &awss3.PutObjectInput{
			Bucket: aws.String(c.set.bucket), Key: aws.String(u.key), ContentType: aws.String(u.contentType),
			Body: bytes.NewReader(u.buf.Bytes()), ContentLength: aws.Int64(int64(u.buf.Len()))})
		if err != nil {
			return err
		}
		u.etag = aws.ToString(out.ETag)
		return nil
	}
	if u.buf.Len() > 0 {
		if err := u.part(u.buf.Bytes()); err != nil {
			return err
		}
	}
	out, err := c.client.CompleteMultipartUpload(u.ctx, &awss3.CompleteMultipartUploadInput{
		Bucket: aws.String(c.set.bucket), Key: aws.String(u.key), UploadId: u.id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: u.parts}})
	if err != nil {
		return err
	}
	u.etag = aws.ToString(out.ETag)
	return nil
}

// abort drops a multipart upload that will not complete, so that its parts
// do not linger (and cost) in the bucket; even when the call's context has
// ended.
func (u *upload) abort() {
	if u.id == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(u.ctx), u.c.set.timeout+5*time.Second)
	defer cancel()
	if _, err := u.c.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{
		Bucket: aws.String(u.c.set.bucket), Key: aws.String(u.key), UploadId: u.id}); err != nil {
		u.c.log.Warn("abort multipart upload", "key", u.key, "error", err)
	}
}
