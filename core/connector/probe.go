package connector

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
)

// Prober is an optional role of a connector: it checks that the connection
// can work — the remote is reachable, its identity (TLS certificate, SSH
// host key) is the one configured, the credentials are accepted — without
// side effects: no record is read past a listing, nothing is written, no
// message is sent. `junction doctor` calls it. Builtins implement it;
// plugins can opt in later through the same method on the host adapters.
type Prober interface {
	Probe(ctx context.Context, env *ProbeEnv) []ProbeResult
}

// ProbeEnv is what a probe may use. Everything it dials goes through the
// connection's network rules (spec.network: allow_hosts, allow_private),
// even for connectors whose own traffic is not HTTP, so that a probe can
// never reach an internal address the operator did not open.
type ProbeEnv struct {
	// Dial opens a TCP connection to host:port; a refusal by the network
	// rules is reported by host.IsRefused.
	Dial func(ctx context.Context, address string) (net.Conn, error)
	// Reach connects to a URL's host (TLS handshake for https) without
	// sending a request.
	Reach func(ctx context.Context, rawURL string) (string, error)
}

// ProbeStatus is a probe's verdict.
type ProbeStatus string

// Verdicts: fail means the remote answered and said the configuration is
// wrong (or the rules forbid what the connection needs); warn means it
// could not be verified from here (DNS, a refused or timed-out connect).
const (
	ProbeOK   ProbeStatus = "ok"
	ProbeWarn ProbeStatus = "warn"
	ProbeFail ProbeStatus = "fail"
	ProbeSkip ProbeStatus = "skip"
)

// ProbeResult is one check of a probe.
type ProbeResult struct {
	Check  string      // what was checked: "reach", "host key", "auth"...
	Status ProbeStatus //
	Detail string
}

// ReachResult turns the outcome of ProbeEnv.Reach or Dial into a result:
// a policy refusal or an unverifiable certificate fails, a network error
// warns.
func ReachResult(check, detail string, err error) ProbeResult {
	switch {
	case err == nil:
		return ProbeResult{Check: check, Status: ProbeOK, Detail: detail}
	case host.IsRefused(err):
		return ProbeResult{Check: check, Status: ProbeFail, Detail: "refused by the connection's network rules, nothing sent: " + err.Error()}
	case host.IsCertificateError(err):
		return ProbeResult{Check: check, Status: ProbeFail, Detail: err.Error()}
	}
	return ProbeResult{Check: check, Status: ProbeWarn, Detail: "not reachable from here: " + err.Error()}
}

// ProbeOptions configures ProbeConnection.
type ProbeOptions struct {
	// Open opens the connection's connector (default OpenBuiltin). The
	// doctor opens builtins only: starting a plugin process or module is
	// not a check without side effects.
	Open   Opener
	Logger *slog.Logger
	// Timeout bounds the whole probe of one connection (default 15s).
	Timeout time.Duration
}

// ProbeConnection configures the connection's connector with the YAML's
// credentials (credentials stored since by `connection reconnect` live in
// the store, which a probe does not open) and runs its probe.
func ProbeConnection(ctx context.Context, cc *config.Connection, o ProbeOptions) []ProbeResult {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Open == nil {
		o.Open = OpenBuiltin
	}
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	client := host.NewHTTPClient(host.HTTPOptions{
		AllowHosts: cc.Network.AllowHosts, AllowPrivate: cc.Network.AllowPrivate,
		Logger: o.Logger, Connection: cc.Name,
	})
	defer client.CloseIdleConnections()
	env := &ProbeEnv{Dial: client.Dial, Reach: client.Reach}

	if _, ok := LookupBuiltin(cc.Connector); !ok {
		return pluginProbe(ctx, cc, env)
	}
	opened, err := o.Open(ctx, cc)
	if err != nil {
		return []ProbeResult{{Check: "open", Status: ProbeFail, Detail: err.Error()}}
	}
	if opened.Closer != nil {
		defer opened.Closer.Close()
	}
	cfg, err := json.Marshal(cc.Config)
	if err != nil {
		return []ProbeResult{{Check: "config", Status: ProbeFail, Detail: fmt.Sprintf("encode config: %v", err)}}
	}
	pctx := &pluginsdk.Context{
		Connection: cc.Name, Config: cfg, Auth: yamlAuth(cc),
		HTTP: client, KV: denied{"a probe does not open the store"}, Log: o.Logger.With("connection", cc.Name),
	}
	if err := opened.Connector.Configure(ctx, pctx); err != nil {
		return []ProbeResult{{Check: "configure", Status: ProbeFail, Detail: err.Error()}}
	}
	p, ok := opened.Connector.(Prober)
	if !ok {
		return []ProbeResult{{Check: "probe", Status: ProbeSkip, Detail: fmt.Sprintf("the %s connector offers no probe", cc.Connector)}}
	}
	return p.Probe(ctx, env)
}

// pluginProbe checks what the host itself knows of a plugin connection:
// its oauth2 token endpoint is reachable. The plugin is not started.
func pluginProbe(ctx context.Context, cc *config.Connection, env *ProbeEnv) []ProbeResult {
	var out []ProbeResult
	if cc.Auth.Type == string(pluginsdk.AuthOAuth2) && cc.Auth.TokenURL != "" {
		detail, err := env.Reach(ctx, cc.Auth.TokenURL)
		out = append(out, ReachResult("token_url", detail, err))
	}
	return append(out, ProbeResult{Check: "probe", Status: ProbeSkip,
		Detail: fmt.Sprintf("connector %s is a plugin; plugins offer no probe yet, and the doctor does not start them", cc.Connector)})
}

// yamlAuth is the connection's auth block as a connector receives it.
func yamlAuth(cc *config.Connection) pluginsdk.Auth {
	return pluginsdk.Auth{
		Type: pluginsdk.AuthType(cc.Auth.Type), Secret: cc.Auth.Secret,
		Username: cc.Auth.Username, Password: cc.Auth.Password,
		TokenURL: cc.Auth.TokenURL, ClientID: cc.Auth.ClientID, ClientSecret: cc.Auth.ClientSecret,
		Scopes: cc.Auth.Scopes, Audience: cc.Auth.Audience,
	}
}
