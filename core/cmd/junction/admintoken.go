package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/hub"
)

// newAdminTokenCmd is `junction admin-token rotate`: a new admin token for a
// stopped hub's data dir.
func newAdminTokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "admin-token", Short: "Manage the hub's admin token"}
	var f pluginFlags // --data and --config locate the data dir as `plugin install` does
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the admin token of a stopped hub's data dir; prints the new one once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := f.settings(cmd)
			if err != nil {
				return err
			}
			if f.dataDir != "" {
				s.DataDir = f.dataDir
			}
			tok, err := hub.RotateAdminToken(cmd.Context(), s, nil)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "new admin token for %s (shown once, stored hashed): %s\n", s.DataDir, tok)
			fmt.Fprintln(out, "the old token and its console sessions no longer work once the hub starts again")
			if _, set := os.LookupEnv("JUNCTION_ADMIN_TOKEN"); set {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: JUNCTION_ADMIN_TOKEN is set in this shell; a hub started with it set makes that value the token again, so update or unset it before `junction up`")
			}
			return nil
		},
	}
	f.register(rotate)
	cmd.AddCommand(rotate)
	return cmd
}
