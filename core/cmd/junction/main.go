// Command junction is the Junction integration hub: one binary that receives,
// fetches, maps and delivers events (see README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	// IANA time zones for schedules, even on hosts without zoneinfo.
	_ "time/tzdata"

	// Builtin connectors and tasks register themselves.
	_ "github.com/junctionhub/junction/builtin/directorytasks"
	_ "github.com/junctionhub/junction/builtin/events"
	_ "github.com/junctionhub/junction/builtin/s3"
	_ "github.com/junctionhub/junction/builtin/sftp"
	_ "github.com/junctionhub/junction/builtin/smtp"
	_ "github.com/junctionhub/junction/builtin/survey"
	_ "github.com/junctionhub/junction/builtin/twilio"
	_ "github.com/junctionhub/junction/builtin/webhook"
)

// usageError marks a command-line mistake (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	err := root.ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "junction:", err)
	var ue usageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "junction",
		Short:         "Junction: a self-hosted integration hub",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(
		newUpCmd(true), newUpCmd(false),
		newValidateCmd(),
		newApplyCmd(),
		newWorkflowCmd(),
		newRunsCmd(),
		newMappingCmd(),
		newConnectionCmd(),
		newReplayCmd(),
		newContactsCmd(),
		newPluginCmd(),
		newStatusCmd(),
		newDoctorCmd(),
		newTapCmd(),
		newAdminTokenCmd(),
	)
	for _, c := range root.Commands() {
		wrapArgs(c)
	}
	return root
}

// wrapArgs makes argument-count errors usage errors (exit 2).
func wrapArgs(c *cobra.Command) {
	if c.Args != nil {
		args := c.Args
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		wrapArgs(sub)
	}
}
