package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// APIVersion is the only apiVersion this package reads.
const APIVersion = "junction/v1"

// The kinds a document may declare.
const (
	KindSettings   = "Settings"
	KindConnection = "Connection"
	KindWorkflow   = "Workflow"
	KindDirectory  = "Directory"
	KindSurvey     = "Survey"
	KindAlert      = "Alert"
)

var kinds = []string{KindAlert, KindConnection, KindDirectory, KindSettings, KindSurvey, KindWorkflow}

// Options tune Load.
type Options struct {
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Check answers what the configuration alone cannot know (installed
	// plugins, builtin tasks); nil skips those checks.
	Check Checker
	// KeepUnset leaves an unset ${VAR} that has no default as written,
	// instead of reporting it: `junction validate` checks files without the
	// production environment. A ${VAR:-default} still takes its default.
	KeepUnset bool
}

// Checker lets the caller supply what config alone cannot know. nil Checker:
// skip those checks.
type Checker interface {
	// ConnectorKnown reports whether a connection's `connector:` value names a
	// builtin or an installed plugin (name or name@version).
	ConnectorKnown(connector string) bool
	// TaskKnown reports whether `uses:` names a builtin task (e.g.
	// directory.upsert_contact); for `<connection>.<action>` config checks the
	// connection exists itself, then asks ActionKnown.
	TaskKnown(uses string) bool
	// ActionKnown reports whether the connector performs the action. checkable
	// is false when the connector's actions cannot be listed (a plugin not
	// loaded yet), and then known is ignored.
	ActionKnown(connector, action string) (known bool, checkable bool)
}

// Load reads files and folders (a folder: every *.yaml/*.yml below it, sorted,
// skipping hidden entries), interpolates ${VAR} / ${VAR:-default} in scalar
// values, decodes every document, and validates the whole set. It returns all
// problems found as Errors, sorted by position. Even then the Bundle is
// returned, so a caller can show its Warnings; it must not be run.
func Load(paths []string, opts Options) (*Bundle, error) {
	l := newLoader(opts)
	files := l.collect(paths)
	for _, f := range files {
		l.loadFile(f)
	}
	l.finish()
	l.b.Warnings = sortErrors(l.warnings)
	if len(l.errs) > 0 {
		return l.b, Errors(sortErrors(l.errs))
	}
	return l.b, nil
}

func newLoader(opts Options) *loader {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	return &loader{
		b:         &Bundle{},
		lookup:    lookup,
		check:     opts.Check,
		keepUnset: opts.KeepUnset,
		names:     map[string]map[string]Pos{},
		pos:       positions{connector: map[*Connection]Pos{}, workflow: map[*Workflow]*workflowPos{}},
	}
}

// loader holds the state of one Load.
type loader struct {
	b         *Bundle
	lookup    func(string) (string, bool)
	check     Checker
	keepUnset bool
	errs      []*Error
	warnings  []*Warning
	// names maps kind -> name -> where it was first defined.
	names       map[string]map[string]Pos
	settingsPos *Pos
	pos         positions
}

// positions are what the cross-document checks need to know about decoded
// documents beyond their exported fields.
type positions struct {
	connector map[*Connection]Pos
	workflow  map[*Workflow]*workflowPos
}

func (l *loader) errorAt(p Pos, format string, args ...any) {
	l.errs = append(l.errs, &Error{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

// collect expands the paths into the list of files to read.
func (l *loader) collect(paths []string) []string {
	var files []string
	seen := map[string]bool{}
	add := func(f string) {
		if key := filepath.Clean(f); !seen[key] {
			seen[key] = true
			files = append(files, f)
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			l.errorAt(Pos{File: p}, "%v", unwrapPathError(err))
			continue
		}
		if !info.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				l.errorAt(Pos{File: path}, "%v", unwrapPathError(err))
				return nil
			}
			if path != p && strings.HasPrefix(e.Name(), ".") {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !e.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				add(path)
			}
			return nil
		})
		if err != nil {
			l.errorAt(Pos{File: p}, "%v", err)
		}
	}
	l.b.Files = files
	return files
}

// unwrapPathError drops the path from an *fs.PathError: the position already
// names the file.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). yaml.v3 prints a parser error's line 0-based and a scanner
// error's 1-based; the parser's are corrected here.
var parserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxErrorPos locates a yaml.v3 syntax error. The parser gives a line
// (where the construct that failed starts) but no column; a message without
// a line is about the first line, and one past the end (an unexpected end
// of file) is about the last.
func syntaxErrorPos(file string, data []byte, err error) (Pos, string) {
	msg := err.Error()
	m := yamlLineRE.FindStringSubmatch(msg)
	if m == nil {
		return Pos{File: file, Line: 1}, strings.TrimPrefix(msg, "yaml: ")
	}
	line, _ := strconv.Atoi(m[1])
	if parserProblems[m[2]] {
		line++
	}
	line = max(min(line, countLines(data)), 1)
	msg = m[2]
	if strings.HasPrefix(msg, "did not find expected ',' or ") && flowUsesVar(data, line) {
		msg += `; inside {...} or [...] a value using ${VAR} must be quoted: "${VAR}"`
	}
	return Pos{File: file, Line: line}, msg
}

// flowUsesVar reports whether the flow collection starting at line (that
// line and the more indented ones after it) contains "${": a plain ${VAR} is
// not valid YAML there, since { and } delimit the collection.
func flowUsesVar(data []byte, line int) bool {
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	if line > len(lines) {
		return false
	}
	indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
	first := lines[line-1]
	for i := line - 1; i < len(lines); i++ {
		if i > line-1 && strings.TrimSpace(lines[i]) != "" && indent(lines[i]) <= indent(first) {
			break
		}
		if strings.Contains(lines[i], "${") {
			return true
		}
	}
	return false
}

// loadFile decodes every document of one file.
func (l *loader) loadFile(file string) {
	data, err := os.ReadFile(file)
	if err != nil {
		l.errorAt(Pos{File: file}, "%v", unwrapPathError(err))
		return
	}
	l.loadBytes(file, data)
}

// loadBytes decodes every document of one file's contents.
func (l *loader) loadBytes(file string, data []byte) {
	d := &decoder{file: file, keepUnset: l.keepUnset}
	defer func() { l.errs = append(l.errs, d.errs...) }()
	markers := docMarkers(data)
	dec := yaml.NewDecoder(bytes.NewReader(shieldVars(data)))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			// The YAML parser reports a line but no column, and cannot go on
			// after a syntax error.
			p, msg := syntaxErrorPos(file, data, err)
			l.errorAt(p, "invalid YAML: %s", msg)
			return
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document, as between two "---"
		}
		d.interpolateTree(root, l.lookup)
		l.document(d, root, docText(data, markers, root.Line))
	}
}

// docMarkers returns the 1-based numbers of the lines that start or end a
// document ("---" or "...").
func docMarkers(data []byte) []int {
	var out []int
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		for _, m := range [][]byte{[]byte("---"), []byte("...")} {
			if bytes.HasPrefix(line, m) && (len(line) == 3 || line[3] == ' ' || line[3] == '\t') {
				out = append(out, i+1)
			}
		}
	}
	return out
}

// docText returns the source of the document whose content starts at line:
// the lines between the markers around it.
func docText(data []byte, markers []int, line int) []byte {
	start, end := 1, -1
	for _, m := range markers {
		if m < line {
			start = m + 1
		} else if m == line {
			start = m
		} else {
			end = m - 1
			break
		}
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if end < 0 || end > len(lines) {
		end = len(lines)
	}
	if start > end {
		return nil
	}
	text := bytes.Join(lines[start-1:end], nil)
	text = bytes.TrimRight(text, " \t\r\n")
	return append(text, '\n')
}

// countLines counts lines as YAML does: \n, \r\n and a lone \r each end one.
func countLines(data []byte) int {
	n := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n"))
	if len(data) > 0 && data[len(data)-1] != '\n' && data[len(data)-1] != '\r' {
		n++
	}
	return n
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

// document checks the envelope of one document and routes it by kind.
func (l *loader) document(d *decoder, root *yaml.Node, src []byte) {
	o := d.object(root, "", "apiVersion", "kind", "metadata", "spec")
	if o == nil {
		return
	}
	if v := o.get("apiVersion"); v == nil {
		d.errorf(root, "", "missing apiVersion (want %q)", APIVersion)
	} else if s, ok := d.str(v, "apiVersion"); ok && s != APIVersion {
		d.errorf(v, "apiVersion", "want %q, got %q", APIVersion, s)
	}
	kv := o.get("kind")
	if kv == nil {
		d.errorf(root, "", "missing kind (want one of %s)", strings.Join(kinds, ", "))
		return
	}
	kind, ok := d.str(kv, "kind")
	if !ok {
		return
	}
	if !contains(kinds, kind) {
		d.errorf(kv, "kind", "unknown kind %q%s; want one of %s", kind, didYouMean(kind, kinds), strings.Join(kinds, ", "))
		return
	}
	var name string
	if m := o.get("metadata"); m != nil {
		if mo := d.object(m, "metadata", "name"); mo != nil {
			if v := mo.get("name"); v != nil {
				name, _ = d.str(v, "metadata.name")
				if name != "" && !nameRE.MatchString(name) {
					d.errorf(deref(v), "metadata.name", "%q is not a valid name: want letters, digits, - and _, starting with a letter or digit, at most 63 characters", name)
				}
			} else if kind != KindSettings {
				d.errorf(mo.node, "metadata", "missing required key \"name\"")
			}
		}
	} else if kind != KindSettings {
		d.errorf(root, "", "missing metadata.name")
	}
	pos := d.pos(root)
	if name != "" && kind != KindSettings && !l.claim(kind, name, pos) {
		return
	}
	spec := o.get("spec")
	if spec == nil && (kind == KindConnection || kind == KindWorkflow || kind == KindAlert) {
		d.errorf(root, "", "missing spec")
		if kind == KindWorkflow || kind == KindAlert {
			return
		}
	}
	if name == "" && kind != KindSettings {
		return
	}
	switch kind {
	case KindSettings:
		l.settings(d, spec, pos)
	case KindConnection:
		if c, at := d.connection(spec); c != nil {
			c.Name, c.Pos = name, pos
			l.pos.connector[c] = at
			l.b.Connections = append(l.b.Connections, c)
		}
	case KindWorkflow:
		if w, wp := d.workflow(spec); w != nil {
			w.Name, w.Pos, w.File, w.YAML = name, pos, d.file, src
			l.pos.workflow[w] = wp
			l.b.Workflows = append(l.b.Workflows, w)
		}
	case KindDirectory:
		dir := d.directory(spec)
		dir.Name, dir.Pos = name, pos
		l.b.Directories = append(l.b.Directories, dir)
	case KindSurvey:
		s := d.survey(spec)
		s.Name, s.Pos = name, pos
		l.b.Surveys = append(l.b.Surveys, s)
	case KindAlert:
		a := d.alert(spec)
		a.Name, a.Pos = name, pos
		l.b.Alerts = append(l.b.Alerts, a)
	}
}

// claim records that kind/name is defined at pos, reporting a duplicate.
func (l *loader) claim(kind, name string, pos Pos) bool {
	byName := l.names[kind]
	if byName == nil {
		byName = map[string]Pos{}
		l.names[kind] = byName
	}
	if first, dup := byName[name]; dup {
		l.errorAt(pos, "duplicate %s %q (first defined at %s)", kind, name, first)
		return false
	}
	byName[name] = pos
	return true
}
