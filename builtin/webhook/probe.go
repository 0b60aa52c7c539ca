package webhook

import (
	"context"
	"fmt"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/pluginsdk"
)

var _ connector.Prober = (*Connector)(nil)

// Probe checks the outbound side without posting anything: the target URL
// is reachable (TCP, and TLS with a verified certificate for https) under
// the connection's network rules, and with oauth2 the token endpoint issues
// a token for the client credentials. A token request has no effect beyond
// issuing a token, so it is the read-only way to test the credentials.
func (c *Connector) Probe(ctx context.Context, env *connector.ProbeEnv) []connector.ProbeResult {
	if c.cfg.URL == "" {
		return []connector.ProbeResult{{Check: "url", Status: connector.ProbeSkip, Detail: "no config.url: the connection only receives"}}
	}
	detail, err := env.Reach(ctx, c.cfg.URL)
	out := []connector.ProbeResult{connector.ReachResult("url "+redactURL(c.cfg.URL), detail, err)}
	if c.oauth == nil {
		return out
	}
	tok, err := c.oauth.Token(ctx)
	switch e := pluginsdk.AsError(err); {
	case err == nil && tok != "", e == nil:
		out = append(out, connector.ProbeResult{Check: "oauth2", Status: connector.ProbeOK, Detail: "the token endpoint issued a token for the client credentials"})
	case e.Retryable:
		out = append(out, connector.ProbeResult{Check: "oauth2", Status: connector.ProbeWarn, Detail: fmt.Sprintf("not verified: %s", e.Message)})
	default:
		out = append(out, connector.ProbeResult{Check: "oauth2", Status: connector.ProbeFail, Detail: e.Message})
	}
	return out
}
