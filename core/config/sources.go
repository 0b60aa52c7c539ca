package config

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Source is one configuration file: the name errors are reported under, and
// its contents. `junction apply` reads files where the CLI runs and posts
// them as Sources, so the hub validates exactly what the operator has.
type Source struct {
	Name string `json:"name"`
	Data []byte `json:"data"`
}

// ReadSources reads the files Load would read for paths (a folder: every
// *.yaml/*.yml below it, sorted, skipping hidden entries). A path that
// cannot be read is an Errors naming it.
func ReadSources(paths []string) ([]Source, error) {
	l := newLoader(Options{})
	files := l.collect(paths)
	var out []Source
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			l.errorAt(Pos{File: f}, "%v", unwrapPathError(err))
			continue
		}
		out = append(out, Source{Name: f, Data: data})
	}
	if len(l.errs) > 0 {
		return out, Errors(sortErrors(l.errs))
	}
	return out, nil
}

// LoadSources is Load over files already read: it decodes and validates
// the whole set exactly as Load does, reporting problems under each
// Source's Name.
func LoadSources(srcs []Source, opts Options) (*Bundle, error) {
	l := newLoader(opts)
	for _, s := range srcs {
		l.b.Files = append(l.b.Files, s.Name)
		l.loadBytes(s.Name, s.Data)
	}
	l.finish()
	l.b.Warnings = sortErrors(l.warnings)
	if len(l.errs) > 0 {
		return l.b, Errors(sortErrors(l.errs))
	}
	return l.b, nil
}

// Digest is the content hash of a set of files, as hex SHA-256 over their
// names and contents in name order: the same files give the same digest
// whatever order they were listed in. ${VAR}s are hashed as written, so a
// changed environment alone does not change it.
func Digest(srcs []Source) string {
	sorted := slices.Clone(srcs)
	slices.SortFunc(sorted, func(a, b Source) int { return strings.Compare(a.Name, b.Name) })
	h := sha256.New()
	for _, s := range sorted {
		// Lengths first, so that no two different sets hash alike by
		// moving bytes between a name and a body.
		h.Write([]byte(strings.Join([]string{strconv.Itoa(len(s.Name)), s.Name, strconv.Itoa(len(s.Data))}, "\x00")))
		h.Write([]byte{0})
		h.Write(s.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
