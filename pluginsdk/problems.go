package pluginsdk

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a connection's settings, at a path such
// as config.entities[2].glob (empty when the message names its keys itself,
// as in "set known_hosts or host_key_fingerprint, not both").
type Problem struct {
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Problems collects every problem of a connection's config, so Configure
// reports them all at once rather than one per attempt. The zero value is
// ready to use. DecodeConfig starts one; a connector adds its own checks and
// returns Err.
type Problems struct {
	list []Problem
}

// At adds a problem at path ("config.timeout").
func (p *Problems) At(path, format string, args ...any) {
	p.list = append(p.list, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Addf adds a problem whose message names what it is about.
func (p *Problems) Addf(format string, args ...any) {
	p.list = append(p.list, Problem{Message: fmt.Sprintf(format, args...)})
}

// Check adds err's message at path when err is not nil, for checks that
// return an error (Duration.Positive, url.Parse).
func (p *Problems) Check(path string, err error) {
	if err != nil {
		p.list = append(p.list, Problem{Path: path, Message: err.Error()})
	}
}

// Has reports whether a problem is already at path, so a later check
// (required) can keep quiet about a key the decoder found unreadable.
func (p *Problems) Has(path string) bool {
	for _, pr := range p.list {
		if pr.Path == path {
			return true
		}
	}
	return false
}

// Len is the number of problems so far.
func (p *Problems) Len() int { return len(p.list) }

// List returns the problems in the order they were found.
func (p *Problems) List() []Problem { return append([]Problem(nil), p.list...) }

// Err returns nil when there is no problem, else one permanent *Error
// listing every problem, separated by "; ". Configure returns it.
func (p *Problems) Err() error {
	if len(p.list) == 0 {
		return nil
	}
	msgs := make([]string, len(p.list))
	for i, pr := range p.list {
		msgs[i] = pr.String()
	}
	return &Error{Message: strings.Join(msgs, "; ")}
}
