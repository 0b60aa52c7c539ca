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
		Long: "validate loads PATH... as serve would, changing nothing. Plugin connectors are looked up\n" +
			"as serve looks them up: installed in the Settings' data_dir (or --data), or as bundled\n" +
			"sources in plugin_dirs (or --plugin-dir), a relative one found under the working\n" +
			"directory, next to the Settings file or in the folder above it. Bundled sources are read,\n" +
			"not built, so their actions are checked only once installed.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, paths []string) error {
			checker := validateChecker(paths, dataDir, pluginDirs)
			b, err := config.Load(paths, config.Options{KeepUnset: true, Check: checker})
			if err != nil {
				printErrorLines(cmd.ErrOrStderr(), config.FormatErrors(err))
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
	cmd.Flags().StringVar(&dataDir, "data", "", "data directory, to know the installed plugins (default from Settings, ./data)")
	cmd.Flags().StringArrayVar(&pluginDirs, "plugin-dir", nil, "folder of bundled plugin sources (repeatable; default from Settings plugin_dirs)")
	return cmd
}

// validateChecker answers validate's questions from the Settings in paths,
// as serve would: a first load without a checker only to read them (its
// errors are reported by the full load that follows).
func validateChecker(paths []string, dataDir string, pluginDirs []string) config.Checker {
	pre, _ := config.Load(paths, config.Options{KeepUnset: true})
	s := config.DefaultSettings()
	if pre != nil {
		s = pre.Settings
	}
	if len(pluginDirs) > 0 {
		s.PluginDirs = pluginDirs
	}
	return hub.SettingsChecker(s, dataDir)
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
