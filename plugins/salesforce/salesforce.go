package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/junctionhub/junction/pluginsdk"
	"github.com/junctionhub/junction/pluginsdk/fields"
)

// Version is the connector's version, declared only here: `junction plugin
// build` writes it into the built manifest.
const Version = "1.0.0"

// Config is the connection's `config:` block.
type Config struct {
	// OrganizationIDs are the Salesforce organizations (00D…, 15 or 18
	// characters) whose outbound messages this connection accepts. Required:
	// the organization ID is the only thing that tells Salesforce's messages
	// from anyone else's. Entries may also be comma-separated lists, so one
	// environment variable can hold several.
	OrganizationIDs orgList `json:"organization_ids"`
	// DedupWindow is read by the host (default 24h, Salesforce's retry
	// horizon); the connector only checks that it is a positive duration.
	DedupWindow *pluginsdk.Duration `json:"dedup_window"`
}

// Salesforce receives Salesforce outbound messages (SOAP): one event per
// Notification, acknowledged only after the host has stored them all.
type Salesforce struct {
	pc *pluginsdk.Context
	// orgs holds the 15-character (case-sensitive) form of each allowed
	// organization ID.
	orgs map[string]bool
	// token is the SHA-256 of the secret path token (auth api_key), or nil
	// with auth none.
	token []byte
}

func (s *Salesforce) Spec() pluginsdk.Spec {
	return pluginsdk.Spec{
		Name:        "salesforce",
		Version:     Version,
		ABI:         pluginsdk.ABIVersion,
		Description: "Receives Salesforce outbound messages (SOAP, from Workflow Rules or Flows): one event per notification, acknowledged after they are stored.",
		Direction:   pluginsdk.Inbound,
		// api_key: the secret is a path token (/hooks/{connection}/{token}),
		// since Salesforce sends no credentials of its own. none leaves
		// only the organization ID, which is not a secret.
		Auth: []pluginsdk.AuthType{pluginsdk.AuthAPIKey, pluginsdk.AuthNone},
		Config: []pluginsdk.Param{
			{Name: "organization_ids", Type: pluginsdk.TypeList, Required: true,
				Description: "Salesforce organization IDs (00D…, 15 or 18 characters) allowed to send; others get a SOAP fault and HTTP 401."},
			{Name: "dedup_window", Type: pluginsdk.TypeDuration, Default: "24h",
				Description: "Drop a notification whose Id was already stored within this window (Salesforce resends unacknowledged messages for up to 24 hours)."},
		},
		Roles: []string{pluginsdk.RoleReceive},
		Setup: []pluginsdk.SetupStep{{
			Title: "Outbound message endpoint URL", Text: "{{.URL}}{{if .Secret}}/{{.Secret}}{{end}}",
			Help: "Salesforce: Setup → Process Automation → Outbound Messages → New (or Edit) → Endpoint URL. The last path segment is the connection's token: Salesforce sends no credentials of its own.",
		}},
		// A secret token in the URL is the credential Salesforce can
		// send (it sends no headers of its own); under auth api_key the
		// host compares it before reading the body.
		Push: pluginsdk.Push{Credentials: []pluginsdk.Credential{{In: pluginsdk.CredentialPath}}, Faults: pluginsdk.FaultsSOAP},
	}
}

func (s *Salesforce) Configure(_ context.Context, pc *pluginsdk.Context) error {
	var cfg Config
	problems := pluginsdk.DecodeConfig(pc.Config, &cfg)
	orgs := map[string]bool{}
	for _, id := range cfg.OrganizationIDs {
		if err := checkOrgID(id); err != nil {
			problems.Check("config.organization_ids", err)
			continue
		}
		orgs[id[:15]] = true
	}
	if len(cfg.OrganizationIDs) == 0 && !problems.Has("config.organization_ids") {
		problems.At("config.organization_ids", "required: the Salesforce organization IDs (00D…) allowed to send, from Setup → Company Information")
	}
	if cfg.DedupWindow != nil {
		problems.Check("config.dedup_window", cfg.DedupWindow.Positive(0))
	}
	token, err := pathToken(pc.Auth)
	if err != nil {
		problems.Addf("%v", err)
	}
	if err := problems.Err(); err != nil {
		return err
	}
	s.pc, s.orgs, s.token = pc, orgs, token
	return nil
}

// orgList is organization_ids: a list of strings or one string, either
// possibly comma-separated, so one environment variable can hold several.
type orgList []string

func (l *orgList) UnmarshalJSON(raw []byte) error {
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return fmt.Errorf("want a list of organization IDs, got %s", raw)
		}
		list = []string{one}
	}
	out := orgList{}
	for _, e := range list {
		for _, id := range strings.Split(e, ",") {
			if id = strings.TrimSpace(id); id != "" {
				out = append(out, id)
			}
		}
	}
	*l = out
	return nil
}

// checkOrgID checks a configured organization ID: 00D, then 15 or 18
// letters and digits; an 18-character ID's last three characters must be
// the checksum of the first 15, which catches a mistyped letter case.
func checkOrgID(id string) error {
	if len(id) != 15 && len(id) != 18 {
		return fmt.Errorf("%q has %d characters; an organization ID has 15 or 18 (00D…)", id, len(id))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("%q is not an organization ID: only letters and digits", id)
		}
	}
	if !strings.HasPrefix(id, "00D") {
		return fmt.Errorf("%q is not an organization ID: those start with 00D", id)
	}
	if len(id) == 18 {
		if want := idChecksum(id[:15]); !strings.EqualFold(id[15:], want) {
			return fmt.Errorf("%q: the last three characters should be %s for the first 15; check the letter case", id, want)
		}
	}
	return nil
}

// idChecksum is the 3-character suffix that makes a case-sensitive
// 15-character Salesforce ID an 18-character case-insensitive one: for
// each 5-character chunk, a bit per upper-case letter.
func idChecksum(id15 string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
	var out [3]byte
	for chunk := 0; chunk < 3; chunk++ {
		flags := 0
		for i := 0; i < 5; i++ {
			if c := id15[chunk*5+i]; c >= 'A' && c <= 'Z' {
				flags |= 1 << i
			}
		}
		out[chunk] = alphabet[flags]
	}
	return string(out[:])
}

// allowed reports whether an organization ID from a message is on the
// allow-list: its first 15 characters, compared case-sensitively (15-char
// IDs are case-sensitive; the 18-char suffix only encodes the case).
func (s *Salesforce) allowed(id string) bool {
	return (len(id) == 15 || len(id) == 18) && s.orgs[id[:15]]
}

func (s *Salesforce) Receive(ctx context.Context, req *pluginsdk.HTTPRequest) (*pluginsdk.ReceiveResult, error) {
	if s.pc == nil {
		return nil, pluginsdk.Errorf("salesforce: not configured")
	}
	if err := ctx.Err(); err != nil {
		return nil, pluginsdk.Retryable("salesforce: %v", err)
	}
	// The token is checked first: it costs a hash, and a sender without it
	// learns nothing more about the connection.
	if reason := s.checkToken(req.Path); reason != "" {
		return s.refuse(401, "Client", reason), nil
	}
	if req.Method != "" && req.Method != "POST" {
		return s.refuse(405, "Client", fmt.Sprintf("method %s: Salesforce outbound messages are POSTed", req.Method)), nil
	}
	if reason := checkContentType(req.HeaderValue("Content-Type")); reason != "" {
		return s.refuse(415, "Client", reason), nil
	}
	if _, ok := req.Header["Soapaction"]; !ok && s.pc.Log != nil {
		// SOAP 1.1 requires the header and Salesforce sends it, but nothing
		// depends on its value, so its absence (a hand-made request) is
		// only noted.
		s.pc.Log.Debug("outbound message without a SOAPAction header")
	}
	msg, err := parseMessage(req.Body)
	if errors.Is(err, errTooManyNotifications) {
		return s.refuse(413, "Client", err.Error()), nil
	}
	if err != nil {
		return s.refuse(500, "Client", "malformed outbound message: "+err.Error()), nil
	}
	if !s.allowed(msg.OrganizationID) {
		return s.refuse(401, "Client", fmt.Sprintf(
			"organization %s is not allowed to send to this connection: add it to config.organization_ids (compared on its first 15 characters, case-sensitively)",
			clip(msg.OrganizationID))), nil
	}
	res := pluginsdk.NewReceiveResult(ctx, len(msg.Notifications))
	res.Events = res.Events[:len(msg.Notifications)]
	res.Response = pluginsdk.HTTPResponse{Status: 200, Header: xmlHeader, Body: ackBody}
	for i, n := range msg.Notifications {
		o := fields.NewObject(make([]byte, 0, len(n.Fields)+160))
		o.String("object", n.Object)
		o.String("notificationId", n.ID)
		o.String("organizationId", msg.OrganizationID)
		if msg.ActionID != "" {
			o.String("actionId", msg.ActionID)
		} else {
			o.Null("actionId")
		}
		o.Raw("sObject", n.Fields)
		res.Events[i] = pluginsdk.Event{Payload: o.Bytes(), DedupKey: n.ID, Type: n.Object, Time: n.Time}
	}
	return res, nil
}

// salesforceContentType is the Content-Type of every outbound message.
const salesforceContentType = "text/xml; charset=utf-8"

// checkContentType accepts the XML media types a SOAP sender may use:
// text/xml (SOAP 1.1, what Salesforce sends), application/soap+xml (SOAP
// 1.2), application/xml and any other +xml type; and a missing header, since
// the body is parsed as XML anyway. It returns why a type is refused.
func checkContentType(ct string) string {
	if strings.TrimSpace(ct) == "" || ct == salesforceContentType {
		return "" // what Salesforce sends, spared mime's parsing and its map
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Sprintf("Content-Type %q is not a media type; Salesforce sends text/xml", clip(ct))
	}
	if mt == "text/xml" || mt == "application/xml" || strings.HasSuffix(mt, "+xml") {
		return ""
	}
	return fmt.Sprintf("Content-Type %s is not XML: this connection receives Salesforce outbound messages (SOAP, text/xml)", mt)
}

// refuse answers with a SOAP fault and stores nothing. Salesforce keeps an
// unacknowledged message queued and retries it, so a fault loses nothing
// that a corrected configuration cannot still receive within 24 hours.
func (s *Salesforce) refuse(status int, code, reason string) *pluginsdk.ReceiveResult {
	if s.pc.Log != nil {
		s.pc.Log.Warn("refused a Salesforce outbound message", "status", status, "reason", reason)
	}
	return &pluginsdk.ReceiveResult{
		Response: pluginsdk.HTTPResponse{Status: status, Header: xmlHeader, Body: faultBody(code, reason)},
	}
}
