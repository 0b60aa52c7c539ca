package sftp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"

	"github.com/junctionhub/junction/core/connector"
	"github.com/junctionhub/junction/core/connector/host"
	"github.com/junctionhub/junction/pluginsdk"
)

var _ connector.Prober = (*Connector)(nil)

// Probe connects through the doctor's guarded dialer, verifies the server's
// host key against the pinned one, logs in, and stats each entity's
// directory. Nothing is listed, read, moved or written. The connector's
// own connections do not go through spec.network (SSH is not HTTP), but
// the probe's do: the doctor dials an internal address only where the
// connection says network.allow_private.
func (c *Connector) Probe(ctx context.Context, env *connector.ProbeEnv) []connector.ProbeResult {
	var dialErr error
	sess, err := c.dialWith(ctx, func(ctx context.Context, addr string) (net.Conn, error) {
		nc, err := env.Dial(ctx, addr)
		dialErr = err
		return nc, err
	})
	if dialErr != nil {
		if host.IsRefused(dialErr) {
			return []connector.ProbeResult{{Check: "connect " + c.set.addr, Status: connector.ProbeSkip,
				Detail: "not dialled: " + dialErr.Error() + " (the doctor follows spec.network for every connector)"}}
		}
		return []connector.ProbeResult{{Check: "connect " + c.set.addr, Status: connector.ProbeWarn, Detail: "not reachable from here: " + dialErr.Error()}}
	}
	connected := connector.ProbeResult{Check: "connect " + c.set.addr, Status: connector.ProbeOK, Detail: "tcp connected"}
	if err != nil {
		e := pluginsdk.AsError(err)
		switch {
		case strings.Contains(e.Message, "host key"):
			return []connector.ProbeResult{connected, {Check: "host key", Status: connector.ProbeFail, Detail: e.Message}}
		case e.Retryable:
			return []connector.ProbeResult{connected, {Check: "ssh", Status: connector.ProbeWarn, Detail: e.Message}}
		}
		return []connector.ProbeResult{connected, {Check: "host key", Status: connector.ProbeOK, Detail: "matches the configured key"},
			{Check: "login", Status: connector.ProbeFail, Detail: e.Message}}
	}
	defer sess.close()
	out := []connector.ProbeResult{connected,
		{Check: "host key", Status: connector.ProbeOK, Detail: "matches the configured key"},
		{Check: "login", Status: connector.ProbeOK, Detail: fmt.Sprintf("logged in as %q", c.set.user)}}
	for _, ent := range c.set.entities {
		out = append(out, c.probePath(sess, "entity "+ent.cfg.Name+" path", ent.cfg.Path))
		if ent.cfg.ArchiveDir != "" {
			out = append(out, c.probePath(sess, "entity "+ent.cfg.Name+" archive_dir", ent.cfg.ArchiveDir))
		}
	}
	return out
}

func (c *Connector) probePath(sess *session, check, p string) connector.ProbeResult {
	fi, err := sess.sftp.Stat(p)
	switch {
	case err == nil && fi.IsDir():
		return connector.ProbeResult{Check: check, Status: connector.ProbeOK, Detail: p + " is a directory"}
	case err == nil:
		return connector.ProbeResult{Check: check, Status: connector.ProbeFail, Detail: p + " is not a directory"}
	case errors.Is(err, fs.ErrNotExist):
		return connector.ProbeResult{Check: check, Status: connector.ProbeFail, Detail: p + ": no such directory"}
	case errors.Is(err, fs.ErrPermission):
		return connector.ProbeResult{Check: check, Status: connector.ProbeFail, Detail: fmt.Sprintf("%s: permission denied for user %q", p, c.set.user)}
	}
	return connector.ProbeResult{Check: check, Status: connector.ProbeWarn, Detail: fmt.Sprintf("%s: %v", p, err)}
}
