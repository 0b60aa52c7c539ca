package config

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	// The org time zone and schedule time zones are validated with
	// time.LoadLocation; embedding the zone database keeps that working on
	// hosts and containers without /usr/share/zoneinfo.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// Settings configures the server. At most one Settings document may exist
// across all files; command-line flags override it.
type Settings struct {
	// Addr is the listen address (YAML addr), default ":8080".
	Addr string
	// DataDir holds the store, plugins and keys (data_dir), default "./data".
	DataDir string
	// PublicURL is the externally reachable base URL (public_url), used in
	// links and webhook URLs shown in the console; empty means unknown.
	PublicURL string
	// Timezone is the organisation's IANA time zone (timezone), default "UTC";
	// schedules without their own time zone use it.
	Timezone string
	// MaxBodyBytes limits inbound request bodies (max_body_bytes), as sent
	// and, for a gzip body, after decompression: an int of bytes or a size
	// such as "512KB" or "1MiB"; default 1 MiB.
	MaxBodyBytes int64
	// PluginDirs are searched for installed plugins (plugin_dirs), default
	// ["plugins"].
	PluginDirs []string
	// TrustedKeys are base64 ed25519 public keys whose plugin signatures are
	// trusted (trusted_keys).
	TrustedKeys []string
	// RequireSignatures refuses plugins without a trusted signature
	// (require_signatures); it needs at least one trusted key.
	RequireSignatures bool
	// Workers is the number of concurrent workflow runs (workers), default
	// DefaultWorkers.
	Workers int
	// Retry is the default retry policy of tasks (retry).
	Retry RetryPolicy
	// TLS, when set (tls: {cert, key}), makes Junction serve HTTPS itself.
	TLS *TLS
	// TrustedProxies (trusted_proxies) are the peers allowed to say, in
	// X-Forwarded-For, whom they forward for; see Inbound.AllowIPs.
	TrustedProxies []netip.Prefix
	// Retention bounds what the store keeps (retention); see Retention.
	Retention Retention
	// MemoryLimit is the Go runtime's soft memory limit for `junction serve`
	// (memory_limit): a size, default DefaultMemoryLimit, or NoMemoryLimit
	// for none. A GOMEMLIMIT environment variable overrides it.
	MemoryLimit int64
	// Store selects the store's engine (store); see StoreSettings.
	Store StoreSettings
	// Pos is where the Settings document starts; zero when there is none.
	Pos Pos
}

// RetryPolicy says how a failed task is retried: exponential backoff from
// InitialInterval, capped at MaxInterval, MaxAttempts tries in all.
// YAML: {max_attempts: 5, initial_interval: 1s, max_interval: 5m}.
type RetryPolicy struct {
	MaxAttempts                  int
	InitialInterval, MaxInterval time.Duration
}

// DefaultWorkers is the default number of concurrent runs. Tasks mostly
// wait on the network and on synced writes, not on the CPU, so the default
// is well above the core count: measured on 2 cores, 4 workers delivered
// about 2.9k events/s to a loopback webhook, and ingest outran them.
const DefaultWorkers = 64

// DefaultSettings returns the settings used when no Settings document exists.
func DefaultSettings() Settings {
	return Settings{
		Addr:         ":8080",
		DataDir:      "./data",
		Timezone:     "UTC",
		MaxBodyBytes: 1 << 20,
		PluginDirs:   []string{"plugins"},
		Workers:      DefaultWorkers,
		Retry:        DefaultRetry(),
		Retention:    DefaultRetention(),
		MemoryLimit:  DefaultMemoryLimit,
		Store:        DefaultStore(),
	}
}

// DefaultRetry is the retry policy used when Settings sets none.
func DefaultRetry() RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, InitialInterval: time.Second, MaxInterval: 5 * time.Minute}
}

var settingsKeys = []string{"addr", "data_dir", "public_url", "timezone", "max_body_bytes", "plugin_dirs", "trusted_keys", "require_signatures", "workers", "retry", "tls", "trusted_proxies", "retention", "memory_limit", "store"}

// settings decodes the Settings document's spec (nil: all defaults).
func (l *loader) settings(d *decoder, spec *yaml.Node, pos Pos) {
	if l.settingsPos != nil {
		l.errorAt(pos, "duplicate Settings (first defined at %s); at most one Settings document is allowed", *l.settingsPos)
		return
	}
	l.settingsPos = &pos
	s := DefaultSettings()
	s.Pos = pos
	defer func() { l.b.Settings = s }()
	if spec == nil {
		return
	}
	o := d.object(spec, "spec", settingsKeys...)
	if o == nil {
		return
	}
	if v := o.get("addr"); v != nil {
		if a, ok := d.str(v, o.sub("addr")); ok {
			if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
				d.errorf(deref(v), o.sub("addr"), "want host:port or :port, got %q", a)
			} else {
				s.Addr = a
			}
		}
	}
	if v := o.get("data_dir"); v != nil {
		if p, ok := d.str(v, o.sub("data_dir")); ok {
			s.DataDir = p
		}
	}
	if v := o.get("public_url"); v != nil {
		if u, ok := d.str(v, o.sub("public_url")); ok {
			if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
				d.errorf(deref(v), o.sub("public_url"), "want an http or https URL, got %q", u)
			} else {
				s.PublicURL = strings.TrimSuffix(u, "/")
			}
		}
	}
	if v := o.get("timezone"); v != nil {
		if tz, ok := d.timezone(v, o.sub("timezone")); ok {
			s.Timezone = tz
		}
	}
	if v := o.get("max_body_bytes"); v != nil {
		if n, ok := d.size(v, o.sub("max_body_bytes")); ok {
			s.MaxBodyBytes = n
		}
	}
	if v := o.get("plugin_dirs"); v != nil {
		if dirs, ok := d.strList(v, o.sub("plugin_dirs")); ok {
			s.PluginDirs = dirs
		}
	}
	if v := o.get("trusted_keys"); v != nil {
		if keys, ok := d.strList(v, o.sub("trusted_keys")); ok {
			for i, k := range keys {
				if raw, err := base64.StdEncoding.DecodeString(k); err != nil || len(raw) != ed25519.PublicKeySize {
					d.errorf(deref(deref(v).Content[i]), fmt.Sprintf("%s[%d]", o.sub("trusted_keys"), i), "want a base64 ed25519 public key (%d bytes)", ed25519.PublicKeySize)
				}
			}
			s.TrustedKeys = keys
		}
	}
	if v := o.get("require_signatures"); v != nil {
		if b, ok := d.boolean(v, o.sub("require_signatures")); ok {
			s.RequireSignatures = b
			if b && len(s.TrustedKeys) == 0 {
				d.errorf(deref(v), o.sub("require_signatures"), "true needs at least one key in trusted_keys")
			}
		}
	}
	if v := o.get("workers"); v != nil {
		if n, ok := d.positiveInt(v, o.sub("workers")); ok {
			s.Workers = n
		}
	}
	if v := o.get("memory_limit"); v != nil {
		if n, ok := d.memoryLimit(v, o.sub("memory_limit")); ok {
			s.MemoryLimit = n
		}
	}
	if v := o.get("retry"); v != nil {
		r := d.retry(v, o.sub("retry"))
		s.Retry = r.fill(s.Retry)
		d.checkRetry(v, o.sub("retry"), s.Retry)
	}
	d.edgeSettings(o, &s)
	if v := o.get("retention"); v != nil {
		s.Retention = d.retention(v, o.sub("retention"))
	}
	if v := o.get("store"); v != nil {
		s.Store = d.store(v, o.sub("store"))
	}
}

// retry decodes a retry policy, leaving absent values zero.
func (d *decoder) retry(n *yaml.Node, path string) RetryPolicy {
	var r RetryPolicy
	o := d.object(n, path, "max_attempts", "initial_interval", "max_interval")
	if o == nil {
		return r
	}
	if v := o.get("max_attempts"); v != nil {
		r.MaxAttempts, _ = d.positiveInt(v, o.sub("max_attempts"))
	}
	if v := o.get("initial_interval"); v != nil {
		r.InitialInterval, _ = d.duration(v, o.sub("initial_interval"))
	}
	if v := o.get("max_interval"); v != nil {
		r.MaxInterval, _ = d.duration(v, o.sub("max_interval"))
	}
	return r
}

// fill takes unset values from def.
func (r RetryPolicy) fill(def RetryPolicy) RetryPolicy {
	if r.MaxAttempts == 0 {
		r.MaxAttempts = def.MaxAttempts
	}
	if r.InitialInterval == 0 {
		r.InitialInterval = def.InitialInterval
	}
	if r.MaxInterval == 0 {
		r.MaxInterval = def.MaxInterval
	}
	return r
}

func (d *decoder) checkRetry(n *yaml.Node, path string, r RetryPolicy) {
	if r.InitialInterval > r.MaxInterval {
		d.errorf(deref(n), path, "initial_interval %s is longer than max_interval %s", r.InitialInterval, r.MaxInterval)
	}
}

// timezone reads an IANA zone name that time.LoadLocation accepts.
func (d *decoder) timezone(n *yaml.Node, path string) (string, bool) {
	tz, ok := d.str(n, path)
	if !ok {
		return "", false
	}
	// LoadLocation treats "" and "Local" specially; neither names a zone
	// that means the same on every machine.
	if tz == "" || tz == "Local" {
		d.errorf(deref(n), path, "want an IANA time zone such as Europe/Rome or UTC, got %q", tz)
		return "", false
	}
	if _, err := time.LoadLocation(tz); err != nil {
		d.errorf(deref(n), path, "unknown time zone %q: want an IANA name such as Europe/Rome or UTC", tz)
		return "", false
	}
	return tz, true
}

var sizeRE = regexp.MustCompile(`^(\d+)\s*([A-Za-z]*)$`)

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
}

// size reads a byte count: an int, or a number with a unit (B, KB, MB, GB in
// powers of 1000; KiB, MiB, GiB in powers of 1024).
func (d *decoder) size(n *yaml.Node, path string) (int64, bool) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		d.errorf(n, path, "want a size such as 1048576, 512KB or 1MiB, got %s", kindName(n))
		return 0, false
	}
	m := sizeRE.FindStringSubmatch(strings.TrimSpace(n.Value))
	unit, okUnit := int64(0), false
	if m != nil {
		unit, okUnit = sizeUnits[strings.ToLower(m[2])]
	}
	if !okUnit {
		d.errorf(n, path, "want a size such as 1048576, 512KB or 1MiB, got %q", n.Value)
		return 0, false
	}
	v, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || v > math.MaxInt64/unit {
		d.errorf(n, path, "size %q is too large", n.Value)
		return 0, false
	}
	if v == 0 {
		d.errorf(n, path, "want a positive size, got %q", n.Value)
		return 0, false
	}
	return v * unit, true
}
