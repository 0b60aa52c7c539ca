package console

import (
	"time"

	"github.com/junctionhub/junction/core/server/internal/faillimit"
)

// Failed logins allowed from one address within loginWindow before the
// console refuses further attempts from it until the window ends. The admin
// token is long and random, so this is not what keeps it safe; it keeps a
// script from hammering the form and the log.
const (
	loginFailures = 10
	loginWindow   = 10 * time.Minute
)

// loginLimiter is the failure counter shared with the API's bearer check.
type loginLimiter = faillimit.Limiter

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return faillimit.New(loginFailures, loginWindow, now)
}
