package sftp

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path"

	"github.com/junctionhub/junction/builtin/internal/records"
	"github.com/junctionhub/junction/pluginsdk"
)

// exportResult is the export action's output.
type exportResult struct {
	Path    string `json:"path"`
	Records int    `json:"records"`
	Bytes   int64  `json:"bytes"`
}

// Perform runs the `export` action.
func (c *Connector) Perform(ctx context.Context, req *pluginsdk.PerformRequest) (*pluginsdk.PerformResult, error) {
	if req.Action != "export" {
		return nil, pluginsdk.Errorf("sftp: unknown action %q (sftp performs export)", req.Action)
	}
	if c.imp == nil {
		return nil, pluginsdk.Errorf("sftp: connector is not configured")
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("%s: export: %v", c.where(), err)
	}
	x, err := records.ParseExport(req.Input, "path")
	if err != nil {
		return nil, pluginsdk.Errorf("sftp export: %v", err)
	}
	if !path.IsAbs(x.Target) {
		return nil, pluginsdk.Errorf("sftp export: input.path %q: want an absolute path", x.Target)
	}
	target := path.Clean(x.Target)
	dir, base := path.Split(target)
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	// Hidden, and unlike any import glob such as *.csv.
	tmp := path.Join(dir, "."+base+".tmp-"+hex.EncodeToString(suffix[:]))

	var n int64
	err = c.do(ctx, func(sess *session) error {
		cl := sess.sftp
		f, err := cl.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 256<<10)
		n, err = x.WriteTo(bw)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = rename(sess, tmp, target)
		}
		if err != nil {
			_ = cl.Remove(tmp)
		}
		return err
	})
	if err != nil {
		var pe *pluginsdk.Error
		if errors.As(err, &pe) {
			return nil, pe
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, pluginsdk.Errorf("%s: export to %s: directory %s does not exist", c.where(), target, path.Clean(dir))
		}
		return nil, c.describe(err, "export to %s", target)
	}
	out, _ := json.Marshal(exportResult{Path: target, Records: len(x.Records), Bytes: n})
	c.log.Info("exported", "path", target, "records", len(x.Records), "bytes", n)
	return &pluginsdk.PerformResult{Output: out}, nil
}

// rename moves tmp over target, replacing it. posix-rename@openssh.com does
// it in one step; plain SFTP rename refuses an existing target, so without
// the extension the old file is removed first.
func rename(sess *session, tmp, target string) error {
	cl := sess.sftp
	if _, ok := cl.HasExtension("posix-rename@openssh.com"); ok {
		return cl.PosixRename(tmp, target)
	}
	if err := cl.Remove(target); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return cl.Rename(tmp, target)
}
