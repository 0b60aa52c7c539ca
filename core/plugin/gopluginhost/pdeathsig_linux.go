package gopluginhost

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the plugin if the host dies without
// closing it, so a crashed host leaves no orphaned plugin processes.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
