package fetch

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/junctionhub/junction/core/store"
	"github.com/junctionhub/junction/pluginsdk"
)

func authSecret(connection string) string { return "conn/" + url.PathEscape(connection) + "/auth" }

func webhookKeySecret(connection string) string {
	return "conn/" + url.PathEscape(connection) + "/webhook-key"
}

// ValidateAuth checks that a has the keys its type needs (the same rules as
// the YAML auth block).
func ValidateAuth(a pluginsdk.Auth) error {
	var missing []string
	need := func(name, v string) {
		if v == "" {
			missing = append(missing, name)
		}
	}
	switch a.Type {
	case pluginsdk.AuthAPIKey:
		need("secret", a.Secret)
	case pluginsdk.AuthBasic:
		need("username", a.Username)
		need("password", a.Password)
	case pluginsdk.AuthOAuth2:
		need("tokenURL", a.TokenURL)
		need("clientID", a.ClientID)
		need("clientSecret", a.ClientSecret)
		if a.TokenURL != "" {
			if u, err := url.Parse(a.TokenURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return fmt.Errorf("auth tokenURL %q: want an http(s) URL", a.TokenURL)
			}
		}
	case pluginsdk.AuthNone:
	default:
		return fmt.Errorf("auth type %q: want one of api_key, basic, oauth2, none", a.Type)
	}
	if len(missing) > 0 {
		return fmt.Errorf("auth type %s needs %s", a.Type, strings.Join(missing, ", "))
	}
	return nil
}

// SaveReconnectAuth stores replacement credentials for a connection,
// encrypted. Cursors and everything else of the connection are untouched.
func SaveReconnectAuth(ctx context.Context, secrets store.Secrets, connection string, a pluginsdk.Auth) error {
	if err := ValidateAuth(a); err != nil {
		return err
	}
	b, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode auth of %s: %w", connection, err)
	}
	if err := secrets.Put(ctx, authSecret(connection), b); err != nil {
		return fmt.Errorf("store auth of %s: %w", connection, err)
	}
	return nil
}

// ReconnectAuth returns the credentials a reconnect stored for connection;
// found is false when there are none (the YAML auth applies). The connection
// manager calls it before configuring a connection.
func ReconnectAuth(ctx context.Context, secrets store.Secrets, connection string) (*pluginsdk.Auth, bool, error) {
	b, err := secrets.Get(ctx, authSecret(connection))
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read auth of %s: %w", connection, err)
	}
	var a pluginsdk.Auth
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, false, fmt.Errorf("decode auth of %s: %w", connection, err)
	}
	return &a, true, nil
}

// RotateWebhookKey makes a new random API key for the connection's inbound
// webhook, stores it encrypted and returns it (shown once by the API).
func RotateWebhookKey(ctx context.Context, secrets store.Secrets, connection string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate webhook key: %w", err)
	}
	key := "jwk_" + base64.RawURLEncoding.EncodeToString(b)
	if err := secrets.Put(ctx, webhookKeySecret(connection), []byte(key)); err != nil {
		return "", fmt.Errorf("store webhook key of %s: %w", connection, err)
	}
	return key, nil
}

// WebhookKey returns the rotated webhook API key of connection; found is
// false when none was rotated (the YAML auth secret applies).
func WebhookKey(ctx context.Context, secrets store.Secrets, connection string) (string, bool, error) {
	b, err := secrets.Get(ctx, webhookKeySecret(connection))
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read webhook key of %s: %w", connection, err)
	}
	return string(b), true, nil
}
