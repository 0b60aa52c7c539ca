package config

import "time"

// Version identifies the configuration a hub runs: a counter that goes up
// by one with each configuration applied (kept across restarts), and the
// digest of its files (see Digest).
type Version struct {
	Counter uint64 `json:"counter"`
	Digest  string `json:"digest"`
	// AppliedAt is when this version took effect.
	AppliedAt time.Time `json:"appliedAt"`
	// How it was applied: "start" (the files at start-up), "apply"
	// (`junction apply`, through the API) or "sighup" (the --config paths
	// read again on SIGHUP).
	How   string   `json:"how"`
	Files []string `json:"files"`
}

// How a Version was applied.
const (
	AppliedAtStart  = "start"
	AppliedByAPI    = "apply"
	AppliedBySIGHUP = "sighup"
)

// Changes names what an applied configuration added, changed and removed
// of one kind, sorted.
type Changes struct {
	Added   []string `json:"added,omitempty"`
	Changed []string `json:"changed,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

// Empty reports whether nothing was added, changed or removed.
func (c Changes) Empty() bool { return len(c.Added)+len(c.Changed)+len(c.Removed) == 0 }

// ApplyResult is what applying a configuration did.
type ApplyResult struct {
	Version Version `json:"version"`
	// Unchanged is true when the files are those already running: nothing
	// was reloaded and the version stays.
	Unchanged   bool     `json:"unchanged,omitempty"`
	Connections Changes  `json:"connections"`
	Workflows   Changes  `json:"workflows"`
	Directories Changes  `json:"directories"`
	Surveys     Changes  `json:"surveys"`
	Warnings    []string `json:"warnings,omitempty"`
}
