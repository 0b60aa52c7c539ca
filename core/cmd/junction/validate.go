package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/hub"
	"github.com/junctionhub/junction/core/mapping"
)

func newValidateCmd() *cobra.Command {
	var dataDir string
	var pluginDirs []string
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check config files; errors are printed as file:line:col: message",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			checker := hub.StaticChecker(dataDir, pluginDirs)
			b, err := config.Load(paths, config.Options{KeepUnset: true, Check: checker})
			if err != nil {
				fmt.Fprint(cmd.ErrOrStderr(), config.FormatErrors(err))
				var errs config.Errors
				if errors.As(err, &errs) {
					return fmt.Errorf("%d error(s) in the configuration", len(errs))
				}
				return err
			}
			for _, w := range b.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s (warning)\n", w.Error())
			}
			alerts := ""
			if len(b.Alerts) > 0 {
				alerts = fmt.Sprintf(", %d alert(s)", len(b.Alerts))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d file(s), %d connection(s), %d workflow(s)%s\n", len(b.Files), len(b.Connections), len(b.Workflows), alerts)
			return nil
		},
	}
	cmd.Flags().StringVar(&dataDir, "data", "./data", "data directory, to know the installed plugins")
	cmd.Flags().StringArrayVar(&pluginDirs, "plugin-dir", []string{"plugins"}, "folder of bundled plugin sources (repeatable)")
	return cmd
}

func newMappingCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "mapping", Short: "Work with field mappings"}
	cmd.AddCommand(&cobra.Command{
		Use:   "infer FILE",
		Short: "Print a fields: block (JSONPath and type) inferred from a sample JSON payload",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			fields, err := mapping.Infer(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			fmt.Fprint(cmd.OutOrStdout(), mapping.FormatFields(fields))
			return nil
		},
	})
	return cmd
}
