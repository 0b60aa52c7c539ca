package sftp

import (
	"fmt"
	"net"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/junctionhub/junction/builtin/internal/records/fileimport"
	"github.com/junctionhub/junction/pluginsdk"
)

// Defaults of the connection's config block.
const (
	DefaultPort    = 22
	DefaultTimeout = 30 * time.Second
	// DefaultMinAge skips files modified in the last 30 seconds: a file
	// still being uploaded must not be imported half-way.
	DefaultMinAge = 30 * time.Second
)

// Config is an sftp connection's `config:` block.
//
//	host:                 the server's host name or address (required)
//	port:                 22
//	username:             the login (or auth.username)
//	private_key:          an OpenSSH or PEM private key, for public-key login
//	passphrase:           the private key's passphrase, when it is encrypted
//	known_hosts:          known_hosts lines (inline), or the path of a known_hosts file
//	host_key_fingerprint: the host key's SHA256 fingerprint, "SHA256:..." (ssh-keygen -lf)
//	timeout:              connect and handshake timeout (30s)
//	min_age:              import only files not modified for this long (30s)
//	entities:             what to import, see EntityConfig (none: export only)
//
// One of known_hosts and host_key_fingerprint is required: the host key is
// always verified. The password comes from `auth: {type: basic, username,
// password}`.
type Config struct {
	Host               string         `json:"host"`
	Port               int            `json:"port"`
	Username           string         `json:"username"`
	PrivateKey         string         `json:"private_key"`
	Passphrase         string         `json:"passphrase"`
	KnownHosts         string         `json:"known_hosts"`
	HostKeyFingerprint string         `json:"host_key_fingerprint"`
	Timeout            time.Duration  `json:"timeout"`
	MinAge             time.Duration  `json:"min_age"`
	Entities           []EntityConfig `json:"entities"`
}

// EntityConfig is one item of `entities:`: the files of one folder.
//
//	name, glob, format, delimiter: see fileimport.EntityConfig
//	path:        the remote directory to import from (required)
//	archive_dir: move each imported file there (optional; without it,
//	             imported files stay and are remembered in the cursor)
type EntityConfig struct {
	fileimport.EntityConfig
	Path       string `json:"path"`
	ArchiveDir string `json:"archive_dir"`
}

// settings is the checked config.
type settings struct {
	addr       string // host:port
	user       string
	password   string
	key        string // PEM
	passphrase string
	knownHosts string
	pin        string // "SHA256:..."
	timeout    time.Duration
	minAge     time.Duration
	entities   []entity
}

type entity struct {
	cfg EntityConfig
	fileimport.Entity
}

func parseConfig(pc *pluginsdk.Context) (settings, error) {
	cfg := Config{Timeout: DefaultTimeout, MinAge: DefaultMinAge}
	problems := pluginsdk.DecodeConfig(pc.Config, &cfg)
	s := settings{
		user: cfg.Username, key: cfg.PrivateKey, passphrase: cfg.Passphrase,
		knownHosts: strings.TrimSpace(cfg.KnownHosts),
		timeout:    cfg.Timeout, minAge: cfg.MinAge,
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	switch {
	case cfg.Host == "":
		problems.Addf("config.host is required")
	case badHost(cfg.Host):
		problems.Addf("config.host %q: want a host name or address, without port (see config.port)", cfg.Host)
	}
	port := cfg.Port
	if port == 0 {
		port = DefaultPort
	}
	if port < 1 || port > 65535 {
		problems.Addf("config.port %d: want 1 to 65535", port)
	}
	s.addr = net.JoinHostPort(strings.Trim(cfg.Host, "[]"), strconv.Itoa(port))

	switch pc.Auth.Type {
	case "", pluginsdk.AuthNone:
	case pluginsdk.AuthBasic:
		s.password = pc.Auth.Password
		if s.user == "" {
			s.user = pc.Auth.Username
		} else if pc.Auth.Username != "" && pc.Auth.Username != s.user {
			problems.Addf("config.username %q and auth.username %q differ", s.user, pc.Auth.Username)
		}
		if s.password == "" && s.key == "" {
			problems.Addf("auth.password is empty")
		}
	default:
		problems.Addf("auth.type %q is not supported by sftp (use basic, or none with config.private_key)", pc.Auth.Type)
	}
	if s.user == "" {
		problems.Addf("config.username (or auth.username) is required")
	}
	if s.password == "" && s.key == "" {
		problems.Addf("no credentials: set auth {type: basic, password} or config.private_key")
	}
	if s.key != "" {
		if _, err := parseKey(s.key, s.passphrase); err != nil {
			problems.At("config.private_key", "%v", err)
		}
	}
	switch {
	case s.knownHosts == "" && cfg.HostKeyFingerprint == "":
		problems.Addf("config.known_hosts or config.host_key_fingerprint is required: the host key is always verified")
	case s.knownHosts != "" && cfg.HostKeyFingerprint != "":
		problems.At("config", "set known_hosts or host_key_fingerprint, not both")
	case cfg.HostKeyFingerprint != "":
		pin, err := normalizeFingerprint(cfg.HostKeyFingerprint)
		if err != nil {
			problems.At("config.host_key_fingerprint", "%v", err)
		}
		s.pin = pin
	case isInlineKnownHosts(s.knownHosts):
		if _, err := parseKnownHosts([]byte(s.knownHosts)); err != nil {
			problems.At("config.known_hosts", "%v", err)
		}
	}

	seen := map[string]bool{}
	for i, ec := range cfg.Entities {
		e := entity{Entity: ec.Check(i, seen, problems)}
		switch {
		case ec.Path == "":
			problems.Addf("config.entities[%d].path is required", i)
		case !path.IsAbs(ec.Path):
			problems.Addf("config.entities[%d].path %q: want an absolute path", i, ec.Path)
		}
		ec.Path = path.Clean(ec.Path)
		if ec.ArchiveDir != "" {
			if !path.IsAbs(ec.ArchiveDir) {
				problems.Addf("config.entities[%d].archive_dir %q: want an absolute path", i, ec.ArchiveDir)
			}
			ec.ArchiveDir = path.Clean(ec.ArchiveDir)
			if ec.ArchiveDir == ec.Path {
				problems.Addf("config.entities[%d].archive_dir is the import path itself", i)
			}
		}
		e.cfg = ec
		e.Archive = ec.ArchiveDir != ""
		s.entities = append(s.entities, e)
	}
	return s, problems.Err()
}

// badHost reports a host that is not a bare name or address (a URL, a
// host:port).
func badHost(h string) bool {
	h = strings.Trim(h, "[]")
	return strings.ContainsAny(h, "/ \t@") || strings.Contains(h, ":") && net.ParseIP(h) == nil
}

// isInlineKnownHosts tells known_hosts lines from a file path: a line has
// a host, a key type and a key separated by spaces; a path has no space.
func isInlineKnownHosts(s string) bool { return strings.ContainsAny(s, " \t\n") }

// normalizeFingerprint accepts "SHA256:abc", "abc" and padded base64.
func normalizeFingerprint(s string) (string, error) {
	s = strings.TrimSpace(s)
	b64 := strings.TrimRight(strings.TrimPrefix(s, "SHA256:"), "=")
	if strings.HasPrefix(strings.ToUpper(s), "MD5:") || len(b64) != 43 {
		return "", fmt.Errorf("%q: want a SHA256 fingerprint such as SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8 (ssh-keygen -lf key.pub)", s)
	}
	return "SHA256:" + b64, nil
}

// spec is the Spec; an unconfigured connector (configured false) lists a
// placeholder entity, since its entities come from the config.
func spec(entities []entity, configured bool) pluginsdk.Spec {
	ents := []pluginsdk.Entity{{Name: "records", DisplayName: "Records of the files of each configured entity (config.entities)"}}
	if configured {
		ents = nil
		for _, e := range entities {
			ents = append(ents, pluginsdk.Entity{Name: e.Name,
				DisplayName: fmt.Sprintf("%s files in %s", strings.ToUpper(string(e.Read.Format)), e.cfg.Path)})
		}
	}
	return pluginsdk.Spec{
		Name:        "sftp",
		Version:     "1.0.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Imports CSV, NDJSON and JSON files from an SFTP server and exports records to files on it.",
		Direction:   pluginsdk.Bidirectional,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthBasic, pluginsdk.AuthNone},
		Config: []pluginsdk.Param{
			{Name: "host", Type: pluginsdk.TypeString, Required: true, Description: "SFTP server host name or address."},
			{Name: "port", Type: pluginsdk.TypeNumber, Default: strconv.Itoa(DefaultPort), Description: "SFTP server port."},
			{Name: "username", Type: pluginsdk.TypeString, Description: "Login name (or auth.username)."},
			{Name: "private_key", Type: pluginsdk.TypeSecret, Description: "Private key (OpenSSH or PEM) for public-key login."},
			{Name: "passphrase", Type: pluginsdk.TypeSecret, Description: "Passphrase of an encrypted private_key."},
			{Name: "known_hosts", Type: pluginsdk.TypeString, Description: "known_hosts lines, or the path of a known_hosts file (this or host_key_fingerprint is required)."},
			{Name: "host_key_fingerprint", Type: pluginsdk.TypeString, Description: "The host key's SHA256 fingerprint, SHA256:... (this or known_hosts is required)."},
			{Name: "timeout", Type: pluginsdk.TypeDuration, Default: DefaultTimeout.String(), Description: "Connect and handshake timeout."},
			{Name: "min_age", Type: pluginsdk.TypeDuration, Default: DefaultMinAge.String(), Description: "Import only files not modified for this long (a file being uploaded is left alone)."},
			{Name: "entities", Type: pluginsdk.TypeList, Description: "Entities to import: [{name, path, glob, format, delimiter, archive_dir}] (none for an export-only connection)."},
		},
		Roles:    []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata, pluginsdk.RolePerform},
		Entities: ents,
		Actions: []pluginsdk.Action{{
			Name:        "export",
			Description: "Write records to a file on the server (written under a temporary name, then renamed).",
			Input: []pluginsdk.Param{
				{Name: "records", Type: pluginsdk.TypeList, Required: true, Description: "The records, JSON objects."},
				{Name: "path", Type: pluginsdk.TypeString, Required: true, Description: "Absolute path of the file to write, e.g. /outbound/events-2024-05-01.csv."},
				{Name: "format", Type: pluginsdk.TypeString, Description: "csv or ndjson (default: from the path's extension)."},
				{Name: "columns", Type: pluginsdk.TypeList, Description: "Fields to write, in order (default: every key, in the order first seen)."},
			},
		}},
	}
}
