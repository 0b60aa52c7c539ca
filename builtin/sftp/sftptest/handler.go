package sftptest

import (
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/pkg/sftp"
)

// Virtual is a read-only file served from ReaderAt, stored on no disk.
type Virtual struct {
	Size     int64
	ModTime  time.Time
	ReaderAt io.ReaderAt
}

// AddVirtual serves v at the absolute path p ("/big/huge.csv").
func (s *Server) AddVirtual(p string, v *Virtual) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.virtual[path.Clean(p)] = v
}

func (s *Server) lookupVirtual(p string) *Virtual {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.virtual[path.Clean(p)]
}

// Local is the local path of the served path p.
func (s *Server) Local(p string) string {
	return filepath.Join(s.Root, filepath.FromSlash(path.Clean("/"+p)))
}

// handler serves the request server over Root, like a chroot.
type handler struct{ s *Server }

func (h *handler) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	if err := h.s.before("Get", r.Filepath); err != nil {
		return nil, err
	}
	if v := h.s.lookupVirtual(r.Filepath); v != nil {
		return v.ReaderAt, nil
	}
	return os.Open(h.s.Local(r.Filepath))
}

func (h *handler) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	if err := h.s.before("Put", r.Filepath); err != nil {
		return nil, err
	}
	pf := r.Pflags()
	flags := os.O_WRONLY
	if pf.Creat {
		flags |= os.O_CREATE
	}
	if pf.Trunc {
		flags |= os.O_TRUNC
	}
	if pf.Excl {
		flags |= os.O_EXCL
	}
	return os.OpenFile(h.s.Local(r.Filepath), flags, 0o644)
}

func (h *handler) Filecmd(r *sftp.Request) error {
	if err := h.s.before(r.Method, r.Filepath); err != nil {
		return err
	}
	local := h.s.Local(r.Filepath)
	switch r.Method {
	case "Setstat":
		return nil
	case "Rename":
		// SFTP v3 rename refuses to replace an existing file.
		if _, err := os.Lstat(h.s.Local(r.Target)); err == nil {
			return fs.ErrExist
		}
		return os.Rename(local, h.s.Local(r.Target))
	case "Rmdir":
		return os.Remove(local)
	case "Remove":
		return os.Remove(local)
	case "Mkdir":
		return os.Mkdir(local, 0o755)
	}
	return sftp.ErrSSHFxOpUnsupported
}

// PosixRename replaces the target, as posix-rename@openssh.com does.
func (h *handler) PosixRename(r *sftp.Request) error {
	if err := h.s.before("PosixRename", r.Filepath); err != nil {
		return err
	}
	return os.Rename(h.s.Local(r.Filepath), h.s.Local(r.Target))
}

func (h *handler) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	if err := h.s.before(r.Method, r.Filepath); err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		entries, err := os.ReadDir(h.s.Local(r.Filepath))
		if err != nil {
			return nil, err
		}
		var infos []os.FileInfo
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil {
				continue // removed meanwhile
			}
			infos = append(infos, fi)
		}
		h.s.mu.Lock()
		for p, v := range h.s.virtual {
			if path.Dir(p) == path.Clean(r.Filepath) {
				infos = append(infos, virtualInfo{name: path.Base(p), v: v})
			}
		}
		h.s.mu.Unlock()
		sort.Slice(infos, func(i, j int) bool { return infos[i].Name() < infos[j].Name() })
		return listerAt(infos), nil
	case "Stat", "Lstat":
		if v := h.s.lookupVirtual(r.Filepath); v != nil {
			return listerAt{virtualInfo{name: path.Base(r.Filepath), v: v}}, nil
		}
		fi, err := os.Stat(h.s.Local(r.Filepath))
		if err != nil {
			return nil, err
		}
		return listerAt{fi}, nil
	}
	return nil, sftp.ErrSSHFxOpUnsupported
}

type listerAt []os.FileInfo

func (l listerAt) ListAt(dst []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(dst, l[off:])
	if n < len(dst) {
		return n, io.EOF
	}
	return n, nil
}

type virtualInfo struct {
	name string
	v    *Virtual
}

func (i virtualInfo) Name() string       { return i.name }
func (i virtualInfo) Size() int64        { return i.v.Size }
func (i virtualInfo) Mode() os.FileMode  { return 0o444 }
func (i virtualInfo) ModTime() time.Time { return i.v.ModTime }
func (i virtualInfo) IsDir() bool        { return false }
func (i virtualInfo) Sys() any           { return nil }
