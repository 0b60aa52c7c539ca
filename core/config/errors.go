package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Pos is a position in a configuration file. Line and Col are 1-based; zero
// means unknown (an unreadable file has no line, and the YAML parser reports
// syntax errors by line only).
type Pos struct {
	File      string
	Line, Col int
}

// String renders the position as "file:line:col", dropping the parts that are
// unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	default:
		return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	}
}

// before orders positions by file, line, then column.
func (p Pos) before(q Pos) bool {
	if p.File != q.File {
		return p.File < q.File
	}
	if p.Line != q.Line {
		return p.Line < q.Line
	}
	return p.Col < q.Col
}

// Error is one problem found in the configuration, at a position.
type Error struct {
	Pos Pos
	Msg string
}

// Error renders "file:line:col: msg".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// Warning is a problem that does not stop the configuration from loading, such
// as a workflow without a filter.
type Warning = Error

// Errors is every problem found by one Load, sorted by file, line and column.
type Errors []*Error

// Error renders one problem per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sortErrors orders problems by position, keeping the order of problems at the
// same position as they were found, and drops exact repeats (an aliased node is
// decoded once per use, and would otherwise report its problem each time).
func sortErrors(es []*Error) []*Error {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Pos.before(es[j].Pos) })
	out := es[:0]
	for i, e := range es {
		if i > 0 && *e == *es[i-1] {
			continue
		}
		out = append(out, e)
	}
	return out
}

// FormatErrors renders an error returned by Load for a terminal: one
// "file:line:col: message" per line, followed by a count when there are
// several. Any other error is rendered as is.
func FormatErrors(err error) string {
	if err == nil {
		return ""
	}
	var es Errors
	if !errors.As(err, &es) {
		var e *Error
		if !errors.As(err, &e) {
			return err.Error()
		}
		es = Errors{e}
	}
	s := es.Error()
	if len(es) > 1 {
		s += fmt.Sprintf("\n%d errors", len(es))
	}
	return s
}

// suggest returns the candidate closest to got, or "" when none is close
// enough to be a likely typo. Keys that differ only in case or underscores
// (dataDir for data_dir) always match.
func suggest(got string, candidates []string) string {
	norm := func(s string) string { return strings.ReplaceAll(strings.ToLower(s), "_", "") }
	for _, c := range candidates {
		if norm(c) == norm(got) {
			return c
		}
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(got), strings.ToLower(c))
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	// Allow one edit in three characters, at least one and at most three:
	// enough for transpositions and dropped letters, not for unrelated words.
	limit := min(max(len(got)/3, 1), 3)
	if best == "" || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent letters (emial for
// email) each count as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// didYouMean renders the suggestion suffix for got, or "".
func didYouMean(got string, candidates []string) string {
	if s := suggest(got, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}
