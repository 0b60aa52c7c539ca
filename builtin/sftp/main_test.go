package sftp

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if a test leaves a goroutine behind (an SSH
// connection not closed, a server still serving).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
