package doctor

import (
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/junctionhub/junction/core/config"
)

// Clock thresholds.
const (
	// futureSlack is how far in the future a data file's time may be
	// before the clock is suspected of having gone back.
	futureSlack = 5 * time.Minute
	// certWarn is how long before its end a serving certificate warns.
	certWarn = 14 * 24 * time.Hour
)

// checkClock checks what can be checked without the network: the clock is
// not before this binary's source commit, the data dir holds no file
// written in the future (the clock went back: schedules would wait and
// expiry would keep too much), and the serving certificate is valid now.
func checkClock(r *Report, o Options, s config.Settings) {
	now := o.Now()
	built := o.BuildTime
	if built.IsZero() {
		built = vcsTime()
	}
	switch {
	case !built.IsZero() && now.Before(built):
		r.add(Fail, "clock", "%s is before this binary's source commit (%s): set the system time; certificates, schedules and retention depend on it",
			now.UTC().Format(time.RFC3339), built.UTC().Format(time.RFC3339))
	case !built.IsZero():
		r.add(OK, "clock", "%s, after this binary's source commit (%s); the network time is not checked",
			now.UTC().Format(time.RFC3339), built.UTC().Format(time.RFC3339))
	default:
		r.add(OK, "clock", "%s; this binary has no commit time to compare with, and the network time is not checked", now.UTC().Format(time.RFC3339))
	}
	if f, t := newestFile(s.DataDir); !t.IsZero() && t.After(now.Add(futureSlack)) {
		r.add(Warn, "clock", "%s was modified at %s, after now: the clock went back since the hub wrote it", f, t.UTC().Format(time.RFC3339))
	}
	if s.TLS != nil {
		checkCert(r, s.TLS.Cert, now)
	}
}

// vcsTime is the commit time stamped into the binary by go build.
func vcsTime() time.Time {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return time.Time{}
	}
	for _, kv := range bi.Settings {
		if kv.Key == "vcs.time" {
			t, _ := time.Parse(time.RFC3339, kv.Value)
			return t
		}
	}
	return time.Time{}
}

// newestFile returns the most recently modified file directly in dir or
// one level below (the store's tables and logs).
func newestFile(dir string) (string, time.Time) {
	var name string
	var newest time.Time
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && p != dir && strings.Count(strings.TrimPrefix(p, dir), string(filepath.Separator)) > 1 {
			return filepath.SkipDir
		}
		if fi, err := d.Info(); err == nil && !d.IsDir() && fi.ModTime().After(newest) {
			name, newest = p, fi.ModTime()
		}
		return nil
	})
	return name, newest
}

// checkCert checks the certificate the hub serves (Settings tls.cert).
func checkCert(r *Report, file string, now time.Time) {
	b, err := os.ReadFile(file)
	if err != nil {
		r.add(Fail, "tls certificate", "%v", err)
		return
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		r.add(Fail, "tls certificate", "%s holds no PEM block", file)
		return
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		r.add(Fail, "tls certificate", "%s: %v", file, err)
		return
	}
	day := func(t time.Time) string { return t.UTC().Format(time.DateOnly) }
	switch {
	case now.Before(c.NotBefore):
		r.add(Fail, "tls certificate", "%s is valid only from %s: the clock is early, or the certificate is not yet valid", file, day(c.NotBefore))
	case now.After(c.NotAfter):
		r.add(Fail, "tls certificate", "%s expired on %s", file, day(c.NotAfter))
	case c.NotAfter.Sub(now) < certWarn:
		r.add(Warn, "tls certificate", "%s expires on %s: renew it", file, day(c.NotAfter))
	default:
		r.add(OK, "tls certificate", "%s valid until %s", file, day(c.NotAfter))
	}
}

// checkTimezones loads every time zone the config names: the Settings'
// and each schedule's. The binary embeds the IANA database, so a zone
// loads even on a host without one; which of the two answered is said.
func checkTimezones(r *Report, s config.Settings, b *config.Bundle) {
	zones := []string{s.Timezone}
	if b != nil {
		for _, c := range b.Connections {
			if c.Schedule != nil && c.Schedule.Timezone != "" {
				zones = append(zones, c.Schedule.Timezone)
			}
		}
		for _, w := range b.Workflows {
			if w.Trigger.Schedule != nil && w.Trigger.Schedule.Timezone != "" {
				zones = append(zones, w.Trigger.Schedule.Timezone)
			}
		}
	}
	slices.Sort(zones)
	zones = slices.Compact(zones)
	var bad []string
	for _, z := range zones {
		if _, err := time.LoadLocation(z); err != nil {
			bad = append(bad, z+" ("+err.Error()+")")
		}
	}
	if len(bad) > 0 {
		r.add(Fail, "time zones", "do not load: %s", strings.Join(bad, ", "))
		return
	}
	src := "the embedded IANA database (the host has none)"
	if hostZoneinfo() {
		src = "the host's zoneinfo"
	}
	r.add(OK, "time zones", "%s: each loads, from %s", strings.Join(zones, ", "), src)
}

// hostZoneinfo reports whether the host has a time zone database where Go
// looks first.
func hostZoneinfo() bool {
	for _, d := range []string{os.Getenv("ZONEINFO"), "/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/", "/etc/zoneinfo/"} {
		if d == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(d, "UTC")); err == nil {
			return true
		}
		if fi, err := os.Stat(d); err == nil && !fi.IsDir() { // ZONEINFO may name a zip
			return true
		}
	}
	return false
}
