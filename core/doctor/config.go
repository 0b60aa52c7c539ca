package doctor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/junctionhub/junction/core/config"
)

// maxListed caps the config errors quoted one per line; the rest are
// counted.
const maxListed = 20

// checkConfig loads the configuration as `serve` does: the Settings first
// (they say where the data and plugins are), then the whole bundle with
// its references checked. It returns the Settings (defaults when they do
// not load, so the other checks still run) and the bundle, nil when it
// does not load.
func checkConfig(r *Report, o Options) (config.Settings, *config.Bundle) {
	s := config.DefaultSettings()
	pre, err := config.Load(o.ConfigPaths, config.Options{LookupEnv: o.LookupEnv})
	if err == nil {
		s = pre.Settings
	}
	if o.DataDir != "" {
		s.DataDir = o.DataDir
	}
	var check config.Checker
	if o.NewChecker != nil {
		check = o.NewChecker(s)
	}
	b, err := config.Load(o.ConfigPaths, config.Options{LookupEnv: o.LookupEnv, Check: check})
	if err != nil {
		reportConfigErrors(r, err)
		return s, nil
	}
	for _, w := range b.Warnings {
		r.add(Warn, "config", "%s", w.Error())
	}
	r.add(OK, "config", "%s: %d file(s), %d connection(s), %d workflow(s)",
		strings.Join(o.ConfigPaths, ", "), len(b.Files), len(b.Connections), len(b.Workflows))
	return s, b
}

func reportConfigErrors(r *Report, err error) {
	var es config.Errors
	if !errors.As(err, &es) {
		r.add(Fail, "config", "%v", err)
		return
	}
	for i, e := range es {
		if i == maxListed {
			r.add(Fail, "config", "and %d more error(s); junction validate lists them all", len(es)-maxListed)
			break
		}
		r.add(Fail, "config", "%s", e.Error())
	}
}

// sizeString formats bytes as the config writes sizes.
func sizeString(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
