package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/doctor"
	"github.com/junctionhub/junction/core/hub"
)

func newDoctorCmd() *cobra.Command {
	var configs []string
	var dataDir string
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the config, data dir, disk, plugins, clock, time zones and every connection, changing nothing",
		Long: "Checks what serve needs, without side effects: the configuration (as validate), the data\n" +
			"directory (writable, mode, free space against retention.min_free_bytes), the installed plugins\n" +
			"(sha256 against their manifests), the clock and time zones, and each connection through its\n" +
			"connector's probe (reachability and TLS, SFTP host key and login, oauth2 token), dialled through\n" +
			"the connection's spec.network rules. One line per check: ok, warn (could not be verified from\n" +
			"here), FAIL or skip. Exit status 1 when any check FAILs.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep := doctor.Run(cmd.Context(), doctor.Options{
				ConfigPaths: configs, DataDir: dataDir, ProbeTimeout: timeout,
				// The same view of plugins as validate and serve (data_dir
				// already has --data applied).
				NewChecker: func(s config.Settings) config.Checker { return hub.SettingsChecker(s, "") },
			})
			out := cmd.OutOrStdout()
			var err error
			if asJSON {
				err = rep.WriteJSON(out)
			} else {
				err = rep.WriteText(out)
			}
			if err != nil {
				return err
			}
			if rep.Failed() {
				return fmt.Errorf("doctor: %d check(s) failed", rep.Fail)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&configs, "config", []string{"configs"}, "config file or folder (repeatable)")
	cmd.Flags().StringVar(&dataDir, "data", "", "data directory (default from Settings, ./data)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the checks as JSON")
	cmd.Flags().DurationVar(&timeout, "timeout", 15*time.Second, "the longest one connection's probe may take")
	return cmd
}
