package twilio

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/junctionhub/junction/pluginsdk"
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

// fileConfig is the config block as written, before it is checked.
type fileConfig struct {
	AccountSID          string        `json:"account_sid"`
	From                string        `json:"from"`
	MessagingServiceSID string        `json:"messaging_service_sid"`
	BaseURL             string        `json:"base_url"`
	StatusCallback      string        `json:"status_callback"`
	WebhookAuthToken    string        `json:"webhook_auth_token"`
	Timeout             time.Duration `json:"timeout"`
}

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
	in := fileConfig{Timeout: DefaultTimeout}
	problems := pluginsdk.DecodeConfig(raw, &in)
	cfg := Config{BaseURL: DefaultBaseURL, Timeout: DefaultTimeout}

	cfg.AccountSID = strings.TrimSpace(in.AccountSID)
	switch {
	case cfg.AccountSID == "":
		problems.At("config.account_sid", "required (the Account SID from the Twilio console, AC…)")
	case !accountSIDRe.MatchString(cfg.AccountSID):
		problems.At("config.account_sid", "%q is not an Account SID (AC followed by 32 hex digits)", cfg.AccountSID)
	}
	cfg.From = strings.TrimSpace(in.From)
	if cfg.From != "" && !e164Re.MatchString(cfg.From) && !(alphaSenderRe.MatchString(cfg.From) && strings.ContainsAny(strings.ToLower(cfg.From), "abcdefghijklmnopqrstuvwxyz")) {
		problems.At("config.from", "%q is neither an E.164 phone number (+15005550006) nor an alphanumeric sender ID (up to 11 letters, digits and spaces)", cfg.From)
	}
	cfg.MessagingServiceSID = strings.TrimSpace(in.MessagingServiceSID)
	if cfg.MessagingServiceSID != "" && !serviceSIDRe.MatchString(cfg.MessagingServiceSID) {
		problems.At("config.messaging_service_sid", "%q is not a Messaging Service SID (MG followed by 32 hex digits)", cfg.MessagingServiceSID)
	}
	if cfg.From == "" && cfg.MessagingServiceSID == "" {
		problems.Addf("config.from or config.messaging_service_sid: one is required (the number or Messaging Service that sends)")
	}
	if b := strings.TrimSpace(in.BaseURL); b != "" {
		problems.Check("config.base_url", checkURL(b))
		cfg.BaseURL = strings.TrimSuffix(b, "/")
	}
	if cb := strings.TrimSpace(in.StatusCallback); cb != "" {
		problems.Check("config.status_callback", checkURL(cb))
		cfg.StatusCallback = cb
	}
	cfg.WebhookAuthToken = strings.TrimSpace(in.WebhookAuthToken)
	if err := pluginsdk.Duration(in.Timeout).Positive(MaxTimeout); err != nil {
		problems.Check("config.timeout", err)
	} else {
		cfg.Timeout = in.Timeout
	}
	return cfg, problems.Err()
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
