package smtp

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind (an SMTP
// session or a test server that was not closed).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
