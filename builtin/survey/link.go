package survey

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/core/task"
	"github.com/junctionhub/junction/pluginsdk"
)

// LinkKeySecret is the store secret holding the key that signs personal
// links. It is generated on first use and kept encrypted at rest.
const LinkKeySecret = "survey/link-key"

// LinkParam is the query parameter of a personal link that carries the
// token.
const LinkParam = "jt"

// DefaultLinkTTL is how long a personal link is valid unless with.link_ttl
// says otherwise.
const DefaultLinkTTL = 30 * 24 * time.Hour

// maxLinkEmbedded bounds the embedded data a link carries, as JSON: a URL
// much longer than a couple of kilobytes breaks in mail clients and SMS.
const maxLinkEmbedded = 1024

// Errors of VerifyLink.
var (
	ErrLinkInvalid = errors.New("survey link is invalid")
	ErrLinkExpired = errors.New("survey link has expired")
)

// LinkClaims is what a personal link's token carries.
type LinkClaims struct {
	ContactID      string `json:"c"`
	DistributionID string `json:"d"`
	SurveyID       string `json:"s"`
	// Expires is a Unix time in seconds.
	Expires int64 `json:"exp"`
	// Embedded is the contact's embedded data passed to the survey.
	Embedded map[string]any `json:"e,omitempty"`
}

// ExpiresAt is Expires as a time.
func (c *LinkClaims) ExpiresAt() time.Time { return time.Unix(c.Expires, 0).UTC() }

// Links signs and verifies personal survey links. The token is
// base64url(JSON claims) + "." + base64url(HMAC-SHA256(key, first part)),
// so a survey platform can read the claims without a lookup, and only a
// holder of the key can make one. Safe for concurrent use.
type Links struct {
	secrets task.Secrets
	now     func() time.Time

	mu  sync.Mutex
	key []byte
}

// NewLinks returns the link signer keeping its key in secrets.
func NewLinks(secrets task.Secrets) *Links {
	return &Links{secrets: secrets, now: time.Now}
}

// signingKey loads the key, generating and saving it on first use. The
// mutex makes one process generate it once; several processes sharing a
// store would each need the same key, which a cluster must provision.
func (l *Links) signingKey(ctx context.Context) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.key != nil {
		return l.key, nil
	}
	if l.secrets == nil {
		return nil, errors.New("survey links need the store's secrets")
	}
	key, err := l.secrets.Get(ctx, LinkKeySecret)
	switch {
	case err == nil && len(key) >= 32:
	case err == nil:
		return nil, fmt.Errorf("secret %s is %d bytes, want at least 32", LinkKeySecret, len(key))
	case errors.Is(err, store.ErrNotFound):
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("generate %s: %w", LinkKeySecret, err)
		}
		if err := l.secrets.Put(ctx, LinkKeySecret, key); err != nil {
			return nil, fmt.Errorf("save %s: %w", LinkKeySecret, err)
		}
	default:
		return nil, fmt.Errorf("read %s: %w", LinkKeySecret, err)
	}
	l.key = key
	return key, nil
}

// Sign returns the token for c.
func (l *Links) Sign(ctx context.Context, c LinkClaims) (string, error) {
	key, err := l.signingKey(ctx)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode link claims: %w", err)
	}
	body := base64.RawURLEncoding.EncodeToString(payload)
	return body + "." + base64.RawURLEncoding.EncodeToString(mac(key, body)), nil
}

// VerifyLink checks a token's signature and expiry and returns its claims:
// ErrLinkInvalid for a token that was not made with this hub's key (or was
// changed), ErrLinkExpired for one past its expiry. With ErrLinkExpired the
// (authentic) claims are returned too, so a landing page can tell the
// person which survey their link was for.
func (l *Links) VerifyLink(ctx context.Context, token string) (*LinkClaims, error) {
	key, err := l.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	body, sig, ok := strings.Cut(token, ".")
	if !ok || body == "" || strings.Contains(sig, ".") {
		return nil, fmt.Errorf("%w: want <claims>.<signature>", ErrLinkInvalid)
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(key, body)) {
		return nil, fmt.Errorf("%w: bad signature", ErrLinkInvalid)
	}
	payload, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrLinkInvalid, err)
	}
	var c LinkClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrLinkInvalid, err)
	}
	if c.DistributionID == "" || c.ContactID == "" || c.SurveyID == "" {
		return nil, fmt.Errorf("%w: claims lack a contact, distribution or survey", ErrLinkInvalid)
	}
	if !l.now().Before(c.ExpiresAt()) {
		return &c, fmt.Errorf("%w: distribution %s expired at %s", ErrLinkExpired, c.DistributionID, c.ExpiresAt().Format(time.RFC3339))
	}
	return &c, nil
}

func mac(key []byte, body string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(body))
	return m.Sum(nil)
}

// PersonalLink appends the token to the survey's link as ?jt=<token>,
// keeping any query the link already has.
func PersonalLink(base, token string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("survey link %q: %w", base, err)
	}
	q := u.Query()
	q.Set(LinkParam, token)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// maxTTL bounds link_ttl: a link is a credential, and ten years is
// already longer than any survey runs.
const maxTTL = 3650 * 24 * time.Hour

// parseTTL reads a link_ttl: a duration as pluginsdk.ParseDuration reads it,
// whole days in front allowed ("30d", "7d12h", "720h").
func parseTTL(orig string) (time.Duration, error) {
	d, err := pluginsdk.ParseDuration(strings.TrimSpace(orig))
	if err != nil || d > maxTTL {
		return 0, fmt.Errorf("%q: want a duration such as 30d, 7d12h or 48h", orig)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q: want a positive duration", orig)
	}
	return d, nil
}
