package doctor

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/config"
)

// checkDataDir checks the data directory without creating it: that the
// hub can write it, that only its owner can read it (it holds the store's
// secret key), and that its file system has more free space than the
// store keeps (retention.min_free_bytes), below which pushes get 503.
func checkDataDir(r *Report, o Options, s config.Settings) {
	dir := s.DataDir
	fi, err := os.Stat(dir)
	measured := dir
	switch {
	case os.IsNotExist(err):
		parent := existingParent(dir)
		measured = parent
		if werr := writable(parent); werr != nil {
			r.add(Fail, "data dir", "%s does not exist, and its parent %s is not writable: %v", dir, parent, werr)
		} else {
			r.add(OK, "data dir", "%s does not exist yet; serve creates it (mode 0700) in %s, which is writable", dir, parent)
		}
	case err != nil:
		r.add(Fail, "data dir", "%v", err)
		return
	case !fi.IsDir():
		r.add(Fail, "data dir", "%s is not a directory", dir)
		return
	default:
		checkExistingDataDir(r, dir, fi)
	}
	checkDisk(r, o, s, measured)
	checkRetention(r, s, dir)
}

func checkExistingDataDir(r *Report, dir string, fi fs.FileInfo) {
	mode := fi.Mode().Perm()
	if err := writable(dir); err != nil || mode&0o200 == 0 {
		r.add(Fail, "data dir", "%s (mode %04o) is not writable by this user: %v; the store cannot write", dir, mode, err)
		return
	}
	if who := ownerMismatch(fi); who != "" {
		r.add(Warn, "data dir", "%s is owned by %s, not by the user running this check; run the hub as its owner", dir, who)
	} else if mode&0o077 != 0 {
		r.add(Warn, "data dir", "%s (mode %04o) is open to group or others; it holds the store's secret key: chmod 700 %s", dir, mode, dir)
	} else {
		r.add(OK, "data dir", "%s exists, mode %04o, owned and writable by this user", dir, mode)
	}
}

// existingParent returns the nearest ancestor of dir that exists.
func existingParent(dir string) string {
	p := filepath.Clean(dir)
	for {
		next := filepath.Dir(p)
		if _, err := os.Stat(next); err == nil || next == p {
			return next
		}
		p = next
	}
}

func checkDisk(r *Report, o Options, s config.Settings, dir string) {
	free, err := o.Disk.Free(dir)
	if err != nil {
		r.add(Warn, "disk", "free space of %s unknown: %v", dir, err)
		return
	}
	keep := s.Retention.MinFreeBytes
	switch {
	case free < keep:
		r.add(Fail, "disk", "%s free on the file system of %s, below retention.min_free_bytes (%s): the store refuses writes and pushes get 503; free space or lower the reserve",
			sizeString(free), dir, sizeString(keep))
	case free < 2*keep:
		r.add(Warn, "disk", "%s free on the file system of %s, less than twice retention.min_free_bytes (%s): writes stop at %s",
			sizeString(free), dir, sizeString(keep), sizeString(keep))
	default:
		r.add(OK, "disk", "%s free on the file system of %s (writes stop below %s)", sizeString(free), dir, sizeString(keep))
	}
}

func checkRetention(r *Report, s config.Settings, dir string) {
	ret := s.Retention
	desc := "events " + days(ret.Events) + ", runs " + days(ret.Runs) + ", dead letters " + days(ret.DeadLetters)
	if ret.MaxDataBytes <= 0 {
		r.add(OK, "retention", "%s, no size cap (max_data_bytes)", desc)
		return
	}
	used := dirSize(dir)
	if used > ret.MaxDataBytes {
		r.add(Warn, "retention", "%s; the data dir holds %s, over max_data_bytes %s: expiry is removing the oldest events, then runs", desc, sizeString(used), sizeString(ret.MaxDataBytes))
		return
	}
	r.add(OK, "retention", "%s; the data dir holds %s of max_data_bytes %s", desc, sizeString(used), sizeString(ret.MaxDataBytes))
}

// days writes a retention period as the config does (7d), or as a Go
// duration when it is not whole days.
func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return strings.TrimSuffix(time.Duration(d/(24*time.Hour)).String(), "ns") + "d"
	}
	return d.String()
}

// dirSize sums the sizes of the regular files under dir.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // unreadable parts are not counted
		}
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
