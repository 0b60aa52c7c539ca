package store

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that Close stops every goroutine the store started
// (committer, value-log GC) and Badger's own.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
