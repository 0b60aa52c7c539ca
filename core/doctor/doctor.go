// Package doctor checks a Junction installation without changing it: the
// configuration, the data directory and its disk, the installed plugins,
// the store (a JetStream cluster's health), the clock and time zones, and
// every connection (reachability, remote identity, credentials) through
// each connector's probe.
//
// Design notes:
//   - No side effects. The store is not opened (a running hub holds its
//     lock, and opening it would write; a JetStream stream is only asked
//     for its info), the data directory is not created,
//     no plugin is started, and a connection is only probed: a probe
//     connects, checks identity and credentials, and sends nothing that
//     changes the remote (connector.Prober).
//   - Every dial goes through the connection's spec.network rules, even
//     for connectors whose own traffic does not: a doctor that dialled any
//     host a config names would be a way to probe the hub's network.
//   - FAIL is for what is certainly wrong (a config error, a refused
//     credential, a host key that does not match, less free disk than the
//     store keeps); warn is for what could not be verified from here, such
//     as a host that does not resolve. Only FAIL makes the exit status 1,
//     so the quick-start configuration, whose remotes are placeholders,
//     passes with warnings.
package doctor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/junctionhub/junction/core/config"
)

// Status is a check's verdict.
type Status string

// Verdicts, as printed.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "FAIL"
	Skip Status = "skip"
)

// Check is one line of the report.
type Check struct {
	Status Status `json:"status"`
	Name   string `json:"name"`
	Detail string `json:"detail"`
}

// Report is the doctor's findings, in the order checked.
type Report struct {
	Checks []Check `json:"checks"`
	// Counts by status.
	OK     int  `json:"ok"`
	Warn   int  `json:"warn"`
	Fail   int  `json:"fail"`
	Skip   int  `json:"skip"`
	Passed bool `json:"passed"`
}

// Options configures Run.
type Options struct {
	// ConfigPaths are the config files or folders (as `serve --config`).
	ConfigPaths []string
	// DataDir overrides Settings data_dir (as `serve --data`).
	DataDir string
	// LookupEnv resolves ${VAR}; nil means the environment.
	LookupEnv func(string) (string, bool)
	// NewChecker answers what the config cannot know (installed and
	// bundled plugins), for the data dir and plugin dirs of the Settings.
	NewChecker func(s config.Settings) config.Checker
	// Disk measures free space; nil means statfs.
	Disk Disk
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// BuildTime is when this binary's sources were committed; zero means
	// read it from the build info (vcs.time), if stamped.
	BuildTime time.Time
	// ProbeTimeout bounds each connection's probe (default 15s).
	ProbeTimeout time.Duration
	Logger       *slog.Logger
}

// Disk is what the doctor asks of the file system.
type Disk interface {
	// Free returns the bytes an unprivileged writer may still use on the
	// file system holding dir.
	Free(dir string) (int64, error)
}

// Run performs every check.
func Run(ctx context.Context, o Options) *Report {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Disk == nil {
		o.Disk = statfsDisk{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Report{}
	s, b := checkConfig(r, o)
	checkDataDir(r, o, s)
	checkStore(ctx, r, s)
	checkPlugins(r, s.DataDir)
	checkClock(r, o, s)
	checkTimezones(r, s, b)
	if b != nil {
		checkConnections(ctx, r, o, b)
	} else {
		r.add(Skip, "connections", "not checked: the configuration did not load")
	}
	for _, c := range r.Checks {
		switch c.Status {
		case OK:
			r.OK++
		case Warn:
			r.Warn++
		case Fail:
			r.Fail++
		case Skip:
			r.Skip++
		}
	}
	r.Passed = r.Fail == 0
	return r
}

func (r *Report) add(s Status, name, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Status: s, Name: name, Detail: fmt.Sprintf(format, args...)})
}

// Failed reports whether any check failed.
func (r *Report) Failed() bool { return r.Fail > 0 }

// WriteText prints one line per check and a summary.
func (r *Report) WriteText(w io.Writer) error {
	for _, c := range r.Checks {
		if _, err := fmt.Fprintf(w, "%-4s  %s: %s\n", c.Status, c.Name, c.Detail); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	_, err := fmt.Fprintf(w, "%d ok, %d warn, %d FAIL, %d skip\n", r.OK, r.Warn, r.Fail, r.Skip)
	return err
}

// WriteJSON prints the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
