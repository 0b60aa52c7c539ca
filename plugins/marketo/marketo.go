package main

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
)

// Version is the connector's version, declared only here: `junction plugin
// build` writes it into the built manifest.
const Version = "1.0.0"

// Limits Marketo documents for its REST API.
const (
	// maxBatch is the most records one call reads or writes.
	maxBatch = 300
	// maxTriggerLeads is the most leads one campaign trigger takes.
	maxTriggerLeads = 100
	// maxActivityTypes is the most activityTypeIds one activities call takes.
	maxActivityTypes = 10
	// maxConcurrent is Marketo's limit of calls in flight at once.
	maxConcurrent = 10
	// rateWindow is the window of Marketo's call-rate limit.
	rateWindow = 20 * time.Second
	// defaultRateLimit is Marketo's calls per rateWindow.
	defaultRateLimit = 100
	// maxRateLimit bounds rate_limit (and so the per-instance window's
	// memory); Marketo grants more than 100 only by arrangement.
	maxRateLimit = 1000
)

// defaultActivityTypes are the standard activity types fetched when the
// connection names none: Visit Webpage (1), Fill Out Form (2), Click Link
// (3), Send Email (6), Email Delivered (7), Email Bounced (8), Unsubscribe
// Email (9), Open Email (10), Click Email (11), New Lead (12).
var defaultActivityTypes = []int{1, 2, 3, 6, 7, 8, 9, 10, 11, 12}

// defaultLeadFields are read for each fetched lead when lead_fields is unset.
var defaultLeadFields = []string{"id", "email", "firstName", "lastName", "company", "createdAt", "updatedAt"}

// Config is the connection's `config:` block.
type Config struct {
	// BaseURL is the REST endpoint of the Marketo instance, without /rest
	// (Admin > Web Services): https://123-ABC-456.mktorest.com.
	BaseURL string `json:"base_url"`
	// ActivityTypeIDs are the activity types the activities entity fetches
	// (at most 10; default defaultActivityTypes).
	ActivityTypeIDs []int `json:"activity_type_ids"`
	// LeadFields are the lead fields the leads entity reads (REST API names;
	// id and updatedAt are always included).
	LeadFields []string `json:"lead_fields"`
	// Since is where the first fetch of an entity starts: an RFC 3339 time, or
	// a duration before the first fetch ("720h"). Default 24h.
	Since string `json:"since"`
	// BatchSize is the most records one fetch call returns (1–300, default 300).
	BatchSize int `json:"batch_size"`
	// RateLimit is the calls per 20 s this connection may make (default 100,
	// Marketo's limit per instance; lower it when other integrations share
	// the instance; 0 turns the client-side limit off and leaves only
	// Marketo's 606 answers).
	RateLimit int `json:"rate_limit"`
	// PoolSize is read by the host (Wasm instances serving calls at once);
	// it must stay within Marketo's 10 concurrent calls.
	PoolSize *int `json:"pool_size"`
}

// settings is a checked Config.
type settings struct {
	base          string // scheme://host[:port], no trailing slash
	tokenURL      string
	clientID      string
	clientSecret  string
	activityTypes string // comma-separated ids
	leadFields    []string
	since         time.Time     // absolute start, or zero
	lookback      time.Duration // start before the first fetch, when since is zero
	batchSize     int
	rateLimit     int
}

// Marketo is the connector.
type Marketo struct {
	cfg   settings
	pc    *pluginsdk.Context
	now   func() time.Time
	tok   tokenCache
	limit *limiter
	// sem bounds calls in flight from this connector. Under Wasm an instance
	// serves one call at a time, so it matters for the native form, where
	// one connector is shared by every goroutine.
	sem chan struct{}
}

// tokenCache is this instance's copy of the access token.
type tokenCache struct {
	mu        sync.Mutex // held across a refresh: concurrent callers share one
	token     string
	refreshAt time.Time
	hdr       struct {
		token     string
		get, post map[string][]string // shared, never modified
	}
}

// New returns an unconfigured connector.
func New() *Marketo {
	return &Marketo{now: time.Now, sem: make(chan struct{}, maxConcurrent)}
}

// Spec implements pluginsdk.Connector.
func (m *Marketo) Spec() pluginsdk.Spec {
	leadIDs := []pluginsdk.Param{
		{Name: "lead_id", Type: pluginsdk.TypeNumber, Description: "One Marketo lead id (or use leads)."},
		{Name: "leads", Type: pluginsdk.TypeList, Description: "Lead ids, or objects with an id (upsert_lead's output leads)."},
	}
	return pluginsdk.Spec{
		Name:        "marketo",
		Version:     Version,
		ABI:         pluginsdk.ABIVersion,
		Description: "Marketo REST API: fetches leads and lead activities; upserts leads, adds them to trigger campaigns and programs.",
		Direction:   pluginsdk.Bidirectional,
		Auth:        []pluginsdk.AuthType{pluginsdk.AuthOAuth2},
		Config: []pluginsdk.Param{
			{Name: "base_url", Type: pluginsdk.TypeString, Required: true, Description: "REST endpoint of the instance without /rest, e.g. https://123-ABC-456.mktorest.com."},
			{Name: "activity_type_ids", Type: pluginsdk.TypeList, Default: "[1,2,3,6,7,8,9,10,11,12]", Description: "Activity types the activities entity fetches (at most 10)."},
			{Name: "lead_fields", Type: pluginsdk.TypeList, Default: strings.Join(defaultLeadFields, ","), Description: "Lead fields the leads entity reads (REST names)."},
			{Name: "since", Type: pluginsdk.TypeString, Default: "24h", Description: "Start of the first fetch: an RFC 3339 time or a duration before it."},
			{Name: "batch_size", Type: pluginsdk.TypeNumber, Default: "300", Description: "Most records per fetch call (1-300)."},
			{Name: "rate_limit", Type: pluginsdk.TypeNumber, Default: "100", Description: "Calls per 20 s this connection may make (0: no client-side limit)."},
			{Name: "pool_size", Type: pluginsdk.TypeNumber, Default: "4", Description: "Instances serving calls at once (read by the host; at most 10)."},
		},
		Roles: []string{pluginsdk.RoleFetch, pluginsdk.RoleMetadata, pluginsdk.RolePerform},
		Actions: []pluginsdk.Action{
			{Name: actionUpsert, Description: "Creates or updates leads (POST /rest/v1/leads.json, createOrUpdate). Output {id, status, leads: [{id, status}], skipped}.",
				Input: []pluginsdk.Param{
					{Name: "lead", Type: pluginsdk.TypeObject, Description: "One lead's fields by REST name (or use leads)."},
					{Name: "leads", Type: pluginsdk.TypeList, Description: "Up to 300 leads."},
					{Name: "lookup_field", Type: pluginsdk.TypeString, Default: "email", Description: "Field that finds an existing lead."},
					{Name: "partition_name", Type: pluginsdk.TypeString, Description: "Lead partition for new leads."},
				}},
			{Name: actionCampaign, Description: "Adds leads to a trigger campaign (POST /rest/v1/campaigns/{id}/trigger.json). Output {campaign_id, leads}.",
				Input: append([]pluginsdk.Param{
					{Name: "campaign_id", Type: pluginsdk.TypeNumber, Required: true, Description: "Id of a trigger campaign with a 'Campaign is Requested: Web Service API' trigger."},
					{Name: "tokens", Type: pluginsdk.TypeObject, Description: "My tokens: {name: value} or [{name, value}]; a name like survey_link means {{my.survey_link}}."},
				}, leadIDs...)},
			{Name: actionProgram, Description: "Sets leads' program status (POST /rest/v1/leads/programs/{id}/status.json). Output {program_id, status, leads}.",
				Input: append([]pluginsdk.Param{
					{Name: "program_id", Type: pluginsdk.TypeNumber, Required: true},
					{Name: "status", Type: pluginsdk.TypeString, Required: true, Description: "A status of the program's channel, e.g. Member."},
				}, leadIDs...)},
		},
		Entities: []pluginsdk.Entity{
			{Name: entityLeads, DisplayName: "Leads", Fields: leadFieldsMeta(defaultLeadFields, nil)},
			{Name: entityActivities, DisplayName: "Lead activities", Fields: activityFields},
		},
	}
}

var fieldNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// Configure implements pluginsdk.Connector. It does no I/O: the token is
// requested by the first call that needs it.
func (m *Marketo) Configure(_ context.Context, pc *pluginsdk.Context) error {
	if pc == nil {
		return pluginsdk.Errorf("marketo: no connection context")
	}
	// Defaults first: a key left out keeps them, one set is checked.
	cfg := Config{ActivityTypeIDs: defaultActivityTypes, BatchSize: maxBatch, RateLimit: defaultRateLimit}
	problems := pluginsdk.DecodeConfig(pc.Config, &cfg)
	s := check(cfg, pc.Auth, problems)
	if err := problems.Err(); err != nil {
		return err
	}
	m.cfg, m.pc = s, pc
	if m.now == nil {
		m.now = time.Now
	}
	if m.sem == nil {
		m.sem = make(chan struct{}, maxConcurrent)
	}
	m.limit = newLimiter(s.rateLimit, pc.KV, pc.Log)
	m.tok.mu.Lock()
	m.tok.token, m.tok.refreshAt = "", time.Time{}
	m.tok.mu.Unlock()
	return nil
}

// check validates cfg and auth, adding every problem to p.
func check(cfg Config, auth pluginsdk.Auth, p *pluginsdk.Problems) settings {
	var s settings
	if strings.TrimSpace(cfg.BaseURL) == "" {
		p.At("config.base_url", "required (e.g. https://123-ABC-456.mktorest.com)")
	} else if base, err := baseURL(cfg.BaseURL); err != nil {
		p.Check("config.base_url", err)
	} else {
		s.base = base
	}
	if auth.Type != pluginsdk.AuthOAuth2 {
		p.At("auth", "want type oauth2 (client_id and client_secret of a LaunchPoint custom service), got %q", auth.Type)
	} else {
		if auth.ClientID == "" {
			p.At("auth", "missing client_id")
		}
		if auth.ClientSecret == "" {
			p.At("auth", "missing client_secret")
		}
		s.clientID, s.clientSecret = auth.ClientID, auth.ClientSecret
		switch {
		case auth.TokenURL != "":
			u, err := url.Parse(auth.TokenURL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				p.At("auth", "token_url %q is not an http(s) URL", auth.TokenURL)
			}
			s.tokenURL = auth.TokenURL
		case s.base != "":
			s.tokenURL = s.base + "/identity/oauth/token"
		}
	}
	types := cfg.ActivityTypeIDs
	switch {
	case len(types) == 0:
		p.At("config.activity_type_ids", "name at least one activity type id")
	case len(types) > maxActivityTypes:
		p.At("config.activity_type_ids", "Marketo takes at most %d, got %d", maxActivityTypes, len(types))
	}
	ids := make([]string, 0, len(types))
	for _, id := range types {
		if id <= 0 {
			p.At("config.activity_type_ids", "%d is not an activity type id", id)
		}
		ids = append(ids, strconv.Itoa(id))
	}
	s.activityTypes = strings.Join(ids, ",")
	fieldsList := cfg.LeadFields
	if len(fieldsList) == 0 {
		fieldsList = defaultLeadFields
	}
	s.leadFields = []string{"id", "updatedAt"}
	for _, f := range fieldsList {
		if !fieldNameRE.MatchString(f) {
			p.At("config.lead_fields", "%q is not a REST field name", f)
			continue
		}
		if !contains(s.leadFields, f) {
			s.leadFields = append(s.leadFields, f)
		}
	}
	s.lookback = 24 * time.Hour
	if since := strings.TrimSpace(cfg.Since); since != "" {
		if t, err := time.Parse(time.RFC3339, since); err == nil {
			s.since, s.lookback = t, 0
		} else if d, err := pluginsdk.ParseDuration(since); err == nil && d > 0 {
			s.lookback = d
		} else {
			p.At("config.since", "%q is neither an RFC 3339 time nor a positive duration", since)
		}
	}
	if cfg.BatchSize < 1 || cfg.BatchSize > maxBatch {
		p.At("config.batch_size", "want 1 to %d, got %d", maxBatch, cfg.BatchSize)
	}
	s.batchSize = cfg.BatchSize
	if cfg.RateLimit < 0 || cfg.RateLimit > maxRateLimit {
		p.At("config.rate_limit", "want 0 (off) to %d calls per 20 s, got %d", maxRateLimit, cfg.RateLimit)
	}
	s.rateLimit = cfg.RateLimit
	if cfg.PoolSize != nil && (*cfg.PoolSize < 1 || *cfg.PoolSize > maxConcurrent) {
		p.At("config.pool_size", "want 1 to %d (Marketo allows %d concurrent calls), got %d", maxConcurrent, maxConcurrent, *cfg.PoolSize)
	}
	return s
}

// baseURL checks and normalises the base_url: scheme and host, tolerating a
// trailing slash or /rest.
func baseURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", s)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q: want an http(s) URL like https://123-ABC-456.mktorest.com", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q: want only scheme and host, no query or credentials", s)
	}
	switch strings.TrimSuffix(u.Path, "/") {
	case "", "/rest":
	default:
		return "", fmt.Errorf("%q: want only scheme and host (no path %s)", s, u.Path)
	}
	return u.Scheme + "://" + u.Host, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (m *Marketo) configured() error {
	if m.pc == nil || m.limit == nil {
		return pluginsdk.Errorf("marketo: not configured")
	}
	if m.pc.HTTP == nil {
		return pluginsdk.Errorf("marketo: the connection has no HTTP access")
	}
	return nil
}
