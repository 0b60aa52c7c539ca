package registry

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/junctionhub/junction/core/names"
)

// ManifestFile is the name of a plugin's manifest, in its source directory,
// in a built distribution, and in its installed directory.
const ManifestFile = "junction-plugin.yaml"

// Kind is how a plugin's artifact runs.
type Kind string

const (
	// KindWasm is a Wasm reactor module run in process by wazero.
	KindWasm Kind = "wasm"
	// KindGoPlugin is a native executable run as a go-plugin process.
	KindGoPlugin Kind = "goplugin"
)

// Manifest describes a plugin: junction-plugin.yaml.
//
//	name: slack                       # lowercase; what connections name
//	version: 0.1.0                    # written by `junction plugin build` from Spec.Version
//	kind: goplugin                    # wasm | goplugin (the default form; --target builds the other)
//	description: Slack-style notifier
//	connector:                        # filled by `junction plugin build` from the spec
//	  direction: outbound
//	  roles: [perform]
//	  actions: [notify]
//	capabilities:                     # what the plugin asks the host for
//	  http_hosts: [hooks.slack.com]   # hosts it may reach through ctx.HTTP ("*.example.com" too)
//	  kv: false                       # whether it uses ctx.KV
//	  secrets: []                     # names of secrets it reads
//	artifact:                         # filled by `junction plugin build`
//	  file: slack
//	  sha256: 9f86d08...
//	signature: MEUCIQ...              # optional: see SignedMessage
//
// A plugin's source directory holds the manifest without version, artifact
// and signature: the version is declared once, in the connector's
// Spec.Version, and `junction plugin build` writes the complete manifest
// (version included) next to the artifact. A source manifest that still
// names a version must name the Spec's, or the build is refused.
type Manifest struct {
	Name         string           `yaml:"name" json:"name"`
	Version      string           `yaml:"version" json:"version"`
	Kind         Kind             `yaml:"kind" json:"kind"`
	Description  string           `yaml:"description,omitempty" json:"description,omitempty"`
	Connector    ConnectorSummary `yaml:"connector,omitempty" json:"connector"`
	Capabilities Capabilities     `yaml:"capabilities" json:"capabilities"`
	Artifact     Artifact         `yaml:"artifact,omitempty" json:"artifact"`
	// Signature is the base64 ed25519 signature of SignedMessage.
	Signature string `yaml:"signature,omitempty" json:"signature,omitempty"`
}

// ConnectorSummary repeats what the connector's spec declares, so a plugin
// can be listed and checked without running it.
type ConnectorSummary struct {
	Direction string   `yaml:"direction,omitempty" json:"direction,omitempty"`
	Roles     []string `yaml:"roles,omitempty" json:"roles,omitempty"`
	Actions   []string `yaml:"actions,omitempty" json:"actions,omitempty"`
	Entities  []string `yaml:"entities,omitempty" json:"entities,omitempty"`
}

// Capabilities are the host services a plugin asks for (in its manifest) or
// is granted (at install).
type Capabilities struct {
	// HTTPHosts the plugin may reach through ctx.HTTP: host names, host:port,
	// or "*.example.com" for any subdomain.
	HTTPHosts []string `yaml:"http_hosts,omitempty" json:"http_hosts,omitempty"`
	KV        bool     `yaml:"kv,omitempty" json:"kv,omitempty"`
	Secrets   []string `yaml:"secrets,omitempty" json:"secrets,omitempty"`
}

// Artifact names the built file and its checksum.
type Artifact struct {
	File   string `yaml:"file,omitempty" json:"file,omitempty"`
	SHA256 string `yaml:"sha256,omitempty" json:"sha256,omitempty"`
}

// Ref is name@version, or name for a source manifest without a version.
func (m *Manifest) Ref() string {
	if m.Version == "" {
		return m.Name
	}
	return m.Name + "@" + m.Version
}

var (
	hostRE   = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$`)
	secretRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
	sha256RE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ReadManifest reads and checks dir/junction-plugin.yaml. It does not require
// an artifact (a source directory has none); see Manifest.checkArtifact.
func ReadManifest(dir string) (*Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plugin manifest: %w", err)
	}
	m, err := parseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

func parseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true) // a typo in a capability must not pass silently
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// validate checks everything but the artifact.
func (m *Manifest) validate() error {
	var errs []error
	if !names.ValidName(m.Name) {
		errs = append(errs, fmt.Errorf("name %q: want lowercase letters, digits, - or _, starting with a letter", m.Name))
	}
	// A source manifest may leave the version out (it is the Spec's, and the
	// build writes it); a built one always has it.
	if m.Version != "" || m.Artifact.File != "" {
		if _, err := parseSemver(m.Version); err != nil {
			errs = append(errs, err)
		}
	}
	switch m.Kind {
	case KindWasm, KindGoPlugin:
	default:
		errs = append(errs, fmt.Errorf("kind %q: want %s or %s", m.Kind, KindWasm, KindGoPlugin))
	}
	for _, h := range m.Capabilities.HTTPHosts {
		if !hostRE.MatchString(h) {
			errs = append(errs, fmt.Errorf("capabilities.http_hosts: %q is not a lowercase host name, host:port or *.domain", h))
		}
	}
	for _, s := range m.Capabilities.Secrets {
		if !secretRE.MatchString(s) {
			errs = append(errs, fmt.Errorf("capabilities.secrets: %q is not a valid secret name", s))
		}
	}
	return errors.Join(errs...)
}

// checkArtifact checks the artifact section of a built manifest.
func (m *Manifest) checkArtifact() error {
	f := m.Artifact.File
	switch {
	case f == "":
		return errors.New("artifact.file is missing (build the plugin first: junction plugin build DIR)")
	case f != filepath.Base(f) || f == "." || f == ".." || strings.ContainsAny(f, `/\`) || f == ManifestFile:
		return fmt.Errorf("artifact.file %q: want a plain file name next to the manifest", f)
	case !sha256RE.MatchString(m.Artifact.SHA256):
		return fmt.Errorf("artifact.sha256 %q: want 64 lowercase hex digits", m.Artifact.SHA256)
	}
	return nil
}

// WriteManifest writes m as dir/junction-plugin.yaml.
func WriteManifest(dir string, m *Manifest) error {
	b, err := yaml.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest %s: %w", m.Ref(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), b, 0o644); err != nil {
		return fmt.Errorf("write manifest %s: %w", m.Ref(), err)
	}
	return nil
}

// canonical returns c with lists sorted and deduplicated, so the same
// capabilities always sign and compare the same.
func (c Capabilities) canonical() Capabilities {
	return Capabilities{HTTPHosts: sortedSet(c.HTTPHosts), KV: c.KV, Secrets: sortedSet(c.Secrets)}
}

func sortedSet(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := append([]string(nil), in...)
	sort.Strings(out)
	n := 0
	for i, s := range out {
		if i == 0 || s != out[n-1] {
			out[n] = s
			n++
		}
	}
	return out[:n]
}

// Missing returns the capabilities asked for in c that granted does not
// cover, one human-readable item each; nil when all are granted.
func (c Capabilities) Missing(granted Capabilities) []string {
	var out []string
	for _, h := range c.HTTPHosts {
		if !hostGranted(h, granted.HTTPHosts) {
			out = append(out, fmt.Sprintf("http host %q", h))
		}
	}
	if c.KV && !granted.KV {
		out = append(out, "kv")
	}
	for _, s := range c.Secrets {
		if !contains(granted.Secrets, s) {
			out = append(out, fmt.Sprintf("secret %q", s))
		}
	}
	return out
}

// grantFlags are the `junction plugin install` flags that would grant what
// Missing reports, so a refusal can name the fix. The flags replace the
// default grant, so what is already granted is repeated.
func (c Capabilities) grantFlags(granted Capabilities) []string {
	var out []string
	for _, h := range sortedSet(append(append([]string(nil), granted.HTTPHosts...), c.HTTPHosts...)) {
		if contains(granted.HTTPHosts, h) || !hostGranted(h, granted.HTTPHosts) {
			out = append(out, "--grant-http "+h)
		}
	}
	if c.KV || granted.KV {
		out = append(out, "--grant-kv")
	}
	for _, s := range sortedSet(append(append([]string(nil), granted.Secrets...), c.Secrets...)) {
		out = append(out, "--grant-secret "+s)
	}
	return out
}

// hostGranted reports whether asked is covered by one of granted: equal, or
// under a granted "*.domain" (which covers a narrower wildcard too).
func hostGranted(asked string, granted []string) bool {
	for _, g := range granted {
		if g == asked || g == "*" {
			return true
		}
		if suffix, ok := strings.CutPrefix(g, "*"); ok && strings.HasSuffix(strings.TrimPrefix(asked, "*"), suffix) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// String renders capabilities for a table: "http:a.com,b.com kv secrets:x".
func (c Capabilities) String() string {
	var parts []string
	if len(c.HTTPHosts) > 0 {
		parts = append(parts, "http:"+strings.Join(c.HTTPHosts, ","))
	}
	if c.KV {
		parts = append(parts, "kv")
	}
	if len(c.Secrets) > 0 {
		parts = append(parts, "secrets:"+strings.Join(c.Secrets, ","))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}
