package s3

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/junctionhub/junction/builtin/internal/records/fileimport"
	"github.com/junctionhub/junction/pluginsdk"
)

// Defaults of the connection's config block.
const (
	DefaultRegion  = "us-east-1"
	DefaultTimeout = 30 * time.Second
	// DefaultPartSize is the multipart upload part size: exports larger
	// than one part are uploaded in parts of this size.
	DefaultPartSize = 8 << 20
	// MinPartSize is S3's smallest part (but the last).
	MinPartSize = 5 << 20
	// maxParts is S3's limit of parts per upload.
	maxParts = 10_000
)

// Config is an s3 connection's `config:` block.
//
//	bucket:        the bucket (required)
//	endpoint:      an S3-compatible endpoint URL, e.g. https://minio.example.com:9000 (default: AWS for the region)
//	region:        us-east-1
//	path_style:    false; true addresses https://endpoint/bucket/key (MinIO, Ceph, most S3-compatible servers)
//	allow_private: false; true lets the endpoint resolve to loopback or private addresses
//	timeout:       connect and response-header timeout (30s)
//	part_size:     multipart part size in bytes for exports (8 MiB, at least 5 MiB)
//	entities:      what to import, see EntityConfig
//
// Credentials: `auth: {type: basic, username: <access key id>, password:
// <secret access key>}`, or none for a public bucket.
type Config struct {
	Bucket       string         `json:"bucket"`
	Endpoint     string         `json:"endpoint"`
	Region       string         `json:"region"`
	PathStyle    bool           `json:"path_style"`
	AllowPrivate bool           `json:"allow_private"`
	Timeout      time.Duration  `json:"timeout"`
	PartSize     int64          `json:"part_size"`
	Entities     []EntityConfig `json:"entities"`
}

// EntityConfig is one item of `entities:`: the objects under one prefix.
//
//	name, glob, format, delimiter: see fileimport.EntityConfig (glob matches
//	                the key's last segment, after the prefix's last /)
//	prefix:         the key prefix to import from, e.g. inbound/profiles/ (required);
//	                keys in deeper "folders" are not imported
//	archive_prefix: copy each imported object there and delete it (optional;
//	                without it, objects stay and keys are imported in key
//	                order, each once: new keys must sort after the last one
//	                imported, as date-stamped names do)
type EntityConfig struct {
	fileimport.EntityConfig
	Prefix        string `json:"prefix"`
	ArchivePrefix string `json:"archive_prefix"`
}

type settings struct {
	bucket       string
	endpoint     string // "" for AWS
	region       string
	pathStyle    bool
	allowPrivate bool
	timeout      time.Duration
	partSize     int64
	accessKey    string
	secretKey    string
	entities     []entity
}

type entity struct {
	cfg EntityConfig
	fileimport.Entity
}

func parseConfig(pc *pluginsdk.Context) (settings, error) {
	cfg := Config{Timeout: DefaultTimeout}
	problems := pluginsdk.DecodeConfig(pc.Config, &cfg)
	s := settings{
		bucket: cfg.Bucket, region: cfg.Region, pathStyle: cfg.PathStyle, allowPrivate: cfg.AllowPrivate,
		timeout: cfg.Timeout, partSize: cfg.PartSize,
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	if s.region == "" {
		s.region = DefaultRegion
	}
	switch {
	case s.bucket == "":
		problems.Addf("config.bucket is required")
	case len(s.bucket) < 3 || len(s.bucket) > 63 || strings.ContainsAny(s.bucket, "/ :"):
		problems.Addf("config.bucket %q is not a bucket name", s.bucket)
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		switch {
		case err != nil:
			problems.At("config.endpoint", "%v", err)
		case u.Scheme != "http" && u.Scheme != "https":
			problems.Addf("config.endpoint %q: want an http or https URL", cfg.Endpoint)
		case u.Host == "":
			problems.Addf("config.endpoint %q has no host", cfg.Endpoint)
		case u.User != nil || u.RawQuery != "":
			problems.Addf("config.endpoint %q: no credentials or query in the URL", cfg.Endpoint)
		}
		s.endpoint = strings.TrimRight(cfg.Endpoint, "/")
	}
	switch {
	case s.partSize == 0:
		s.partSize = DefaultPartSize
	case s.partSize < MinPartSize:
		problems.Addf("config.part_size %d: S3 parts are at least %d bytes (5 MiB)", s.partSize, MinPartSize)
	}
	switch pc.Auth.Type {
	case "", pluginsdk.AuthNone:
	case pluginsdk.AuthBasic:
		s.accessKey, s.secretKey = pc.Auth.Username, pc.Auth.Password
		if s.accessKey == "" {
			problems.Addf("auth.username (the access key id) is empty")
		}
		if s.secretKey == "" {
			problems.Addf("auth.password (the secret access key) is empty")
		}
	default:
		problems.Addf("auth.type %q is not supported by s3 (use basic: access key id and secret, or none)", pc.Auth.Type)
	}
	seen := map[string]bool{}
	for i, ec := range cfg.Entities {
		e := entity{Entity: ec.Check(i, seen, problems)}
		if strings.HasPrefix(ec.Prefix, "/") {
			problems.Addf("config.entities[%d].prefix %q: keys do not start with /", i, ec.Prefix)
		}
		if ec.ArchivePrefix != "" {
			switch {
			case !strings.HasSuffix(ec.ArchivePrefix, "/"):
				problems.Addf("config.entities[%d].archive_prefix %q: want a folder ending with /", i, ec.ArchivePrefix)
			case folder(ec.ArchivePrefix) == folder(ec.Prefix):
				problems.Addf("config.entities[%d].archive_prefix is the import prefix's folder itself", i)
			}
		}
		e.cfg = ec
		e.Archive = ec.ArchivePrefix != ""
		s.entities = append(s.entities, e)
	}
	return s, problems.Err()
}

// folder is the part of a key or prefix up to its last /.
func folder(key string) string { return key[:strings.LastIndex(key, "/")+1] }

// endpointName names the endpoint in messages.
func (s settings) endpointName() string {
	if s.endpoint != "" {
		return s.endpoint
	}
	return "https://s3." + s.region + ".amazonaws.com"
}

// spec is the Spec; an unconfigured connector (configured false) lists a
// placeholder entity, since its entities come from the config.
func spec(entities []entity, configured bool) pluginsdk.Spec {
	ents := []pluginsdk.Entity{{Name: "records", DisplayName: "Records of the objects of each configured entity (config.entities)"}}
	if configured {
		ents = nil
		for _, e := range entities {
			ents = append(ents, pluginsdk.Entity{Name: e.Name,
				DisplayName: fmt.Sprintf("%s objects under %s", strings.ToUpper(string(e.Read.Format)), e.cfg.Prefix)})
		}
	}
	return pluginsdk.Spec{
		Name:        "s3",
		Version:     "1.0.0",
		ABI:         pluginsdk.ABIVersion,
		Description: "Imports CSV, NDJSON and JSON objects from an S3 or S3-compatible bucket and exports records to objects in it.",
		Direction:   pluginsdk.Bidirectional,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthBasic, pluginsdk.AuthNone},
		Config: []pluginsdk.Param{
			{Name: "bucket", Type: pluginsdk.TypeString, Required: true, Description: "The bucket."},
			{Name: "endpoint", Type: pluginsdk.TypeString, Description: "S3-compatible endpoint URL (default: AWS for the region)."},
			{Name: "region", Type: pluginsdk.TypeString, Default: DefaultRegion, Description: "The bucket's region (signing region)."},
			{Name: "path_style", Type: pluginsdk.TypeBoolean, Default: "false", Description: "Address objects as endpoint/bucket/key (most S3-compatible servers)."},
			{Name: "allow_private", Type: pluginsdk.TypeBoolean, Default: "false", Description: "Let the endpoint resolve to loopback or private addresses."},
			{Name: "timeout", Type: pluginsdk.TypeDuration, Default: DefaultTimeout.String(), Description: "Connect and response-header timeout."},
			{Name: "part_size", Type: pluginsdk.TypeNumber, Default: fmt.Sprint(DefaultPartSize), Description: "Multipart part size in bytes for exports (at least 5 MiB)."},
			{Name: "entities", Type: pluginsdk.TypeList, Description: "Entities to import: [{name, prefix, glob, format, delimiter, archive_prefix}]."},
		},
		Roles:    []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata, pluginsdk.RolePerform},
		Entities: ents,
		Actions: []pluginsdk.Action{{
			Name:        "export",
			Description: "Write records to an object (PutObject, or a multipart upload past part_size).",
			Input: []pluginsdk.Param{
				{Name: "records", Type: pluginsdk.TypeList, Required: true, Description: "The records, JSON objects."},
				{Name: "key", Type: pluginsdk.TypeString, Required: true, Description: "The object key, e.g. outbound/events-2024-05-01.csv."},
				{Name: "format", Type: pluginsdk.TypeString, Description: "csv or ndjson (default: from the key's extension)."},
				{Name: "columns", Type: pluginsdk.TypeList, Description: "Fields to write, in order (default: every key, in the order first seen)."},
			},
		}},
	}
}
