package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/junctionhub/junction/core/config"
	"github.com/junctionhub/junction/core/store"
)

func newWorkflowCmd() *cobra.Command {
	var server, token string
	cmd := &cobra.Command{Use: "workflow", Short: "Apply, list and test-run workflows"}
	addClientFlags(cmd, &server, &token)

	var configDir string
	apply := &cobra.Command{
		Use:   "apply FILE",
		Short: "Validate a workflow file against the configuration and add it to the config folder",
		Long: "apply checks FILE together with the files already in --config-dir (so its trigger and\n" +
			"task connections must exist), then copies it there. A running hub loads it with\n" +
			"`junction apply` of that folder, on SIGHUP, or at its next start.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dst := filepath.Join(configDir, filepath.Base(args[0]))
			paths := []string{configDir}
			if abs, _ := filepath.Abs(args[0]); abs != mustAbs(dst) {
				if _, err := os.Stat(dst); err == nil {
					return fmt.Errorf("%s already exists: edit it in place or rename %s", dst, args[0])
				}
				paths = append(paths, args[0])
			}
			b, err := config.Load(paths, config.Options{KeepUnset: true, Check: validateChecker(paths, "", nil)})
			if err != nil {
				printErrorLines(cmd.ErrOrStderr(), config.FormatErrors(err))
				return fmt.Errorf("%s was not applied", args[0])
			}
			if mustAbs(args[0]) != mustAbs(dst) {
				data, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				if err := os.WriteFile(dst, data, 0o644); err != nil {
					return fmt.Errorf("write %s: %w", dst, err)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied %s (%d workflow(s) in the configuration); load it into the running hub with `junction apply %s` (or SIGHUP), or restart junction\n", dst, len(b.Workflows), configDir)
			return nil
		},
	}
	apply.Flags().StringVar(&configDir, "config-dir", "configs", "the config folder junction loads")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the workflows of the running hub",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			var res struct {
				Workflows []struct {
					Name    string          `json:"name"`
					Trigger json.RawMessage `json:"trigger"`
					Tasks   []string        `json:"tasks"`
				} `json:"workflows"`
			}
			if err := c.do(cmd.Context(), "GET", "/workflows", nil, nil, &res); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTRIGGER\tTASKS")
			for _, w := range res.Workflows {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", w.Name, w.Trigger, len(w.Tasks))
			}
			return tw.Flush()
		},
	}

	var input string
	var dryRun bool
	run := &cobra.Command{
		Use:   "run NAME --input FILE [--dry-run]",
		Short: "Run a workflow once on a test payload and print the run (\"run test data\"); its tasks really run",
		Long: "run executes the workflow's tasks on the payload in FILE as a real run would: actions are\n" +
			"performed (a post is sent, a contact is written) and a test run is stored. With --dry-run\n" +
			"nothing is performed and nothing stored: it prints the fields and each task's rendered\n" +
			"input, credentials redacted; a task that reads an earlier task's output is shown as not\n" +
			"rendered.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if input == "" {
				return usageError{fmt.Errorf("workflow run: --input FILE is required")}
			}
			data, err := os.ReadFile(input)
			if err != nil {
				return err
			}
			if !json.Valid(data) {
				return fmt.Errorf("%s is not valid JSON", input)
			}
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			if dryRun {
				return printDryRun(cmd, c, args[0], data)
			}
			resp, err := c.doRaw(cmd.Context(), "POST", "/workflows/"+url.PathEscape(args[0])+"/run", nil, data)
			if err != nil {
				return err
			}
			var run runRow
			if err := decodeRunMember(resp, &run); err != nil {
				return fmt.Errorf("decode response of POST /workflows/%s/run: %w", args[0], err)
			}
			raw, _, _ := rawMember(resp, "run")
			if err := printRawJSON(cmd.OutOrStdout(), raw); err != nil {
				return err
			}
			if run.Status == store.StatusFailed {
				return fmt.Errorf("run %s failed: %s", run.ID, run.Error)
			}
			return nil
		},
	}
	run.Flags().StringVar(&input, "input", "", "JSON file with the test payload")
	run.Flags().BoolVar(&dryRun, "dry-run", false, "render the fields and each task's input without running any task or storing a run")
	cmd.AddCommand(apply, list, run)
	return cmd
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func newConnectionCmd() *cobra.Command {
	var server, token string
	cmd := &cobra.Command{Use: "connection", Short: "Manage connections"}
	addClientFlags(cmd, &server, &token)
	list := &cobra.Command{
		Use:   "list",
		Short: "List connections",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			var res struct {
				Connections []struct {
					Name      string `json:"name"`
					Connector string `json:"connector"`
					Auth      string `json:"auth"`
					HookURL   string `json:"hookUrl"`
				} `json:"connections"`
			}
			if err := c.do(cmd.Context(), "GET", "/connections", nil, nil, &res); err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCONNECTOR\tAUTH\tHOOK URL")
			for _, x := range res.Connections {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Name, x.Connector, x.Auth, x.HookURL)
			}
			return tw.Flush()
		},
	}
	var setup, reveal bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a connection as JSON, secrets redacted; --setup: how to point its sender at it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := newClient(server, token)
			if err != nil {
				return err
			}
			if setup || reveal {
				return showSetup(cmd, c, args[0], setup, reveal)
			}
			var res map[string]any
			if err := c.do(cmd.Context(), "GET", "/connections/"+url.PathEscape(args[0]), nil, nil, &res); err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), res["connection"])
		},
	}
	show.Flags().BoolVar(&setup, "setup", false, "print the setup steps: the URLs and snippets its sending system needs")
	show.Flags().BoolVar(&reveal, "reveal", false, "with --setup: show the credentials in the steps instead of <redacted>")
	cmd.AddCommand(list, show)
	cmd.AddCommand(newConnectionOpsCmds()...)
	return cmd
}
