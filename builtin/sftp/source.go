package sftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/pkg/sftp"

	"github.com/junctionhub/junction/builtin/internal/records/fileimport"
	"github.com/junctionhub/junction/pluginsdk"
)

// MaxRemembered bounds how many imported files the cursor remembers in a
// directory without archive_dir. The cursor is written with every batch;
// a directory that keeps more imported files needs archive_dir.
const MaxRemembered = 20_000

// source is one entity's directory, for fileimport.
type source struct {
	c *Connector
	e *entity
}

func (s *source) Where() string { return s.c.where() }

// Next lists the directory and returns the oldest file (by modification
// time, then name) not imported yet. Files remembered as imported that are
// gone or changed are forgotten.
func (s *source) Next(ctx context.Context, cur *fileimport.Cursor) (*fileimport.FileID, error) {
	var infos []os.FileInfo
	err := s.c.do(ctx, func(sess *session) (err error) {
		infos, err = sess.sftp.ReadDirContext(ctx, s.e.cfg.Path)
		return err
	})
	if err != nil {
		return nil, s.c.describe(err, "directory %s", s.e.cfg.Path)
	}
	cutoff := s.c.now().Add(-s.c.set.minAge)
	present := map[fileimport.FileID]bool{}
	var todo []os.FileInfo
	for _, fi := range infos {
		name := fi.Name()
		if !fi.Mode().IsRegular() || strings.HasPrefix(name, ".") || !s.e.cfg.Matches(name) {
			continue
		}
		id := s.id(fi)
		present[id] = true
		if fi.ModTime().After(cutoff) || cur.IsDone(id) || cur.IsPendingArchive(id.Name) {
			continue
		}
		todo = append(todo, fi)
	}
	kept := cur.Done[:0]
	for _, d := range cur.Done {
		if present[d] {
			kept = append(kept, d)
		}
	}
	cur.Done = kept
	if len(cur.Done) >= MaxRemembered {
		return nil, pluginsdk.Errorf("%s: %s holds %d imported files; set archive_dir so that imported files are moved away",
			s.c.where(), s.e.cfg.Path, len(cur.Done))
	}
	if len(todo) == 0 {
		return nil, nil
	}
	sort.Slice(todo, func(i, j int) bool {
		a, b := todo[i], todo[j]
		if !a.ModTime().Equal(b.ModTime()) {
			return a.ModTime().Before(b.ModTime())
		}
		return a.Name() < b.Name()
	})
	id := s.id(todo[0])
	return &id, nil
}

func (s *source) id(fi os.FileInfo) fileimport.FileID {
	return fileimport.FileID{Name: path.Join(s.e.cfg.Path, fi.Name()), Size: fi.Size(),
		Version: strconv.FormatInt(fi.ModTime().Unix(), 10)}
}

// Open opens the file and positions it at offset, after checking it is
// still the same file.
func (s *source) Open(ctx context.Context, id fileimport.FileID, offset int64) (fileimport.Handle, error) {
	var h *handle
	err := s.c.do(ctx, func(sess *session) error {
		f, err := sess.sftp.Open(id.Name)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", id.Name, fileimport.ErrGone)
		}
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err == nil && s.id(fi) != id {
			err = fmt.Errorf("%s: now %d bytes, modified %s: %w", id.Name, fi.Size(), fi.ModTime().UTC(), fileimport.ErrChanged)
		}
		if err == nil {
			_, err = f.Seek(offset, io.SeekStart)
		}
		if err != nil {
			_ = f.Close()
			return err
		}
		h = &handle{c: s.c, sess: sess, f: f}
		return nil
	})
	if errors.Is(err, fileimport.ErrGone) || errors.Is(err, fileimport.ErrChanged) {
		return nil, err
	}
	if err != nil {
		return nil, s.c.describe(err, "open %s", id.Name)
	}
	return h, nil
}

// Imported remembers a file that stays in the directory.
func (s *source) Imported(cur *fileimport.Cursor, id fileimport.FileID) {
	cur.Done = append(cur.Done, id)
}

// Archive moves an imported file into archive_dir (created when missing).
// A name already taken there gets the file's modification time appended.
// When the file is gone from the directory it was moved before (the
// process stopped before committing the next cursor): nothing to do.
func (s *source) Archive(ctx context.Context, id fileimport.FileID) error {
	dir := s.e.cfg.ArchiveDir
	dst := path.Join(dir, path.Base(id.Name))
	err := s.c.do(ctx, func(sess *session) error {
		cl := sess.sftp
		err := cl.Rename(id.Name, dst)
		if err == nil {
			return nil
		}
		if _, serr := cl.Stat(id.Name); errors.Is(serr, fs.ErrNotExist) {
			s.c.log.Info("imported file already moved or removed", "file", id.Name)
			return nil
		}
		if _, derr := cl.Stat(dir); errors.Is(derr, fs.ErrNotExist) {
			if err := cl.MkdirAll(dir); err != nil {
				return err
			}
			return cl.Rename(id.Name, dst)
		}
		if _, derr := cl.Stat(dst); derr == nil {
			return cl.Rename(id.Name, dst+"."+id.Version)
		}
		return err
	})
	if err != nil {
		return s.c.describe(err, "move %s to %s", id.Name, dir)
	}
	return nil
}

// handle is an open remote file.
type handle struct {
	c    *Connector
	sess *session
	f    *sftp.File
}

// Read reads the file; a failed connection is dropped so that the next
// call reconnects.
func (h *handle) Read(p []byte) (int, error) {
	n, err := h.f.Read(p)
	if err != nil && !answered(err) {
		h.c.drop(h.sess)
	}
	return n, err
}

func (h *handle) Close() error { return h.f.Close() }

// Abort closes the connection: a read blocked on the network has no other
// way out.
func (h *handle) Abort() { h.c.drop(h.sess) }
