package twilio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/junctionhub/junction/builtin/internal/duration"
)

// Defaults of the connection's config block.
const (
	DefaultBaseURL = "https://api.twilio.com"
	DefaultTimeout = 15 * time.Second
	MaxTimeout     = 2 * time.Minute
)

// Config is a twilio connection's `config:` block.
//
//	account_sid:           the Account SID, AC followed by 32 hex digits (required)
//	from:                  the sender: an E.164 number (+15005550006) or an alphanumeric sender ID
//	messaging_service_sid: MG…; a Messaging Service picks the sender (from or this is required)
//	base_url:              the API's base URL (default https://api.twilio.com); any
//	                       Twilio-compatible Messages API
//	status_callback:       a URL Twilio posts delivery statuses to (usually this
//	                       connection's own /hooks URL)
//	webhook_auth_token:    the account's Auth Token, when auth uses an API key (SK…) instead:
//	                       inbound webhooks are signed with the Auth Token
//	timeout:               per API request (default 15s, at most 2m)
type Config struct {
	AccountSID          string
	From                string
	MessagingServiceSID string
	BaseURL             string
	StatusCallback      string
	WebhookAuthToken    string
	Timeout             time.Duration
}

var configKeys = []string{"account_sid", "from", "messaging_service_sid", "base_url", "status_callback", "webhook_auth_token", "timeout"}

var (
	accountSIDRe = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)
	serviceSIDRe = regexp.MustCompile(`^MG[0-9a-fA-F]{32}$`)
	apiKeySIDRe  = regexp.MustCompile(`^SK[0-9a-fA-F]{32}$`)
	// e164Re is a phone number in E.164 form; Twilio also accepts channel
	// prefixes such as whatsapp:+1555....
	e164Re = regexp.MustCompile(`^([a-z]+:)?\+[1-9][0-9]{6,14}$`)
	// alphaSenderRe is an alphanumeric sender ID: up to 11 characters, at
	// least one letter.
	alphaSenderRe = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)
)

// parseConfig decodes and validates raw, reporting every problem at once.
func parseConfig(raw json.RawMessage) (Config, error) {
	cfg := Config{BaseURL: DefaultBaseURL, Timeout: DefaultTimeout}
	var m map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && !bytes.Equal(t, []byte("null")) {
		if err := json.Unmarshal(t, &m); err != nil {
			return cfg, fmt.Errorf("config: want an object with %s: %v", strings.Join(configKeys, ", "), err)
		}
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.Contains(configKeys, k) {
			bad("config.%s: unknown key; want %s", k, strings.Join(configKeys, ", "))
		}
	}
	str := func(key string) string {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			return ""
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			bad("config.%s: want a string, got %s", key, v)
		}
		return strings.TrimSpace(s)
	}

	cfg.AccountSID = str("account_sid")
	switch {
	case cfg.AccountSID == "":
		bad("config.account_sid: required (the Account SID from the Twilio console, AC…)")
	case !accountSIDRe.MatchString(cfg.AccountSID):
		bad("config.account_sid: %q is not an Account SID (AC followed by 32 hex digits)", cfg.AccountSID)
	}
	cfg.From = str("from")
	if cfg.From != "" && !e164Re.MatchString(cfg.From) && !(alphaSenderRe.MatchString(cfg.From) && strings.ContainsAny(strings.ToLower(cfg.From), "abcdefghijklmnopqrstuvwxyz")) {
		bad("config.from: %q is neither an E.164 phone number (+15005550006) nor an alphanumeric sender ID (up to 11 letters, digits and spaces)", cfg.From)
	}
	cfg.MessagingServiceSID = str("messaging_service_sid")
	if cfg.MessagingServiceSID != "" && !serviceSIDRe.MatchString(cfg.MessagingServiceSID) {
		bad("config.messaging_service_sid: %q is not a Messaging Service SID (MG followed by 32 hex digits)", cfg.MessagingServiceSID)
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		bad("config.from or config.messaging_service_sid: one is required (the number or Messaging Service that sends)")
	}
	if b := str("base_url"); b != "" {
		if err := checkURL(b); err != nil {
			bad("config.base_url: %v", err)
		}
		cfg.BaseURL = strings.TrimSuffix(b, "/")
	}
	if cb := str("status_callback"); cb != "" {
		if err := checkURL(cb); err != nil {
			bad("config.status_callback: %v", err)
		}
		cfg.StatusCallback = cb
	}
	cfg.WebhookAuthToken = str("webhook_auth_token")
	if v, ok := m["timeout"]; ok && string(v) != "null" {
		if d, err := duration.Bounded(v, MaxTimeout); err != nil {
			bad("config.timeout: %v", err)
		} else {
			cfg.Timeout = d
		}
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return cfg, nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return err
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q: want an http or https URL", s)
	case u.Host == "":
		return fmt.Errorf("%q has no host", s)
	case u.User != nil:
		return fmt.Errorf("%q: put credentials in auth, not in the URL", s)
	}
	return nil
}
