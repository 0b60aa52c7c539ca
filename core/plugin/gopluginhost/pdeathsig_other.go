//go:build !linux

package gopluginhost

import "os/exec"

// dieWithParent is a no-op where the kernel offers no parent-death signal;
// Close still kills the process.
func dieWithParent(*exec.Cmd) {}
